#!/bin/bash
# cli_models.sh — `chorus models pull kokoro` against a loopback model host serving the tiny test
# model, then speaking with it: the whole install path, and its failures (missing file, dropped
# connection) leave no partial file.
set -u
BIN=${CHORUS_BIN:?}
DATA=${CHORUS_TEST_DATA:?}/kokoro
FAKES=${CHORUS_FAKES:?}
T=$(mktemp -d)
pids=()
trap 'kill ${pids[@]} 2>/dev/null; rm -rf "$T"' EXIT
: > "$T/empty.toml"
export CHORUS_CONFIG=$T/empty.toml CHORUS_CACHE=0 XDG_DATA_HOME=$T/data
pass=0 fail=0
check() { if eval "$1"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $2" >&2; fi; }

serve() { # serve ARGS... -> sets PORT
    python3 "$FAKES/fake_models.py" "$@" > "$T/port" &
    LAST=$!
    pids+=($LAST)
    for _ in $(seq 400); do grep -q PORT "$T/port" 2>/dev/null && break; sleep 0.05; done
    PORT=$(awk '/PORT/ {print $2}' "$T/port")
}
MAP=(--map config.json="$DATA/tiny-config.json" --map kokoro-v1_0.pth="$DATA/tiny.pth" --map voices/af_heart.pt="$DATA/voice.pt" --map voices/am_adam.pt="$DATA/voice.pt")
DIR=$("$BIN" models path kokoro)
check '[ "$DIR" = "$T/data/chorus/models/kokoro" ]' "models path: $DIR"

# a file the host does not have: clear error naming it, nothing partial left
serve "${MAP[@]}" --missing voices/am_adam.pt
"$BIN" models pull kokoro --from "http://127.0.0.1:$PORT" --voices af_heart,am_adam 2>"$T/err"; st=$?
check '[ $st = 1 ] && grep -q "voices/am_adam.pt" "$T/err" && grep -q "127.0.0.1:$PORT" "$T/err"' "missing file: st=$st $(cat "$T/err")"
check '[ -z "$(find "$DIR" -name "*.part")" ]' "partial file left after 404"
check '[ -s "$DIR/config.json" ] && [ -s "$DIR/voices/af_heart.pt" ]' "complete files were not kept"

# a connection dropped mid-file: retried, then an error; no partial file
rm -rf "$DIR"
serve "${MAP[@]}" --drop kokoro-v1_0.pth
"$BIN" models pull kokoro --from "http://127.0.0.1:$PORT" --voices af_heart 2>"$T/err"; st=$?
check '[ $st = 1 ] && grep -q "kokoro-v1_0.pth" "$T/err"' "dropped download: st=$st $(cat "$T/err")"
check '[ ! -e "$DIR/kokoro-v1_0.pth" ] && [ -z "$(find "$DIR" -name "*.part")" ]' "dropped download left a file"

# bad names never reach the file system
"$BIN" models pull kokoro --from "http://127.0.0.1:$PORT" --voices ../../etc/x 2>"$T/err"; st=$?
check '[ $st = 1 ] && grep -q "invalid voice name" "$T/err"' "path in voice name: $(cat "$T/err")"
"$BIN" models pull nosuch 2>"$T/err"; st=$?
check '[ $st = 1 ] && grep -q "unknown model" "$T/err"' "unknown model"

# the whole path: install, then the kokoro backend runs on what was installed
serve "${MAP[@]}"
"$BIN" models pull kokoro --from "http://127.0.0.1:$PORT" --voices af_heart,am_adam 2>"$T/err"
check '[ $? = 0 ]' "pull failed: $(cat "$T/err")"
check 'cmp -s "$DIR/kokoro-v1_0.pth" "$DATA/tiny.pth" && cmp -s "$DIR/voices/am_adam.pt" "$DATA/voice.pt"' "installed bytes differ"
"$BIN" backends --json > "$T/b.json"
check 'python3 -c "import json,sys; b={x[\"name\"]:x for x in json.load(open(sys.argv[1]))}; assert b[\"kokoro\"][\"available\"], b[\"kokoro\"]" "$T/b.json"' "kokoro not available after pull"
"$BIN" say -q -b kokoro -v af_heart -o "$T/k.wav" "Hello there." 2>"$T/err"
check '[ $? = 0 ] && [ "$(soxi -r "$T/k.wav")" = 24000 ]' "say with the installed model: $(cat "$T/err")"
# a second pull finds everything present and downloads nothing
: > "$T/log"
kill $LAST; serve "${MAP[@]}" --log "$T/log"
"$BIN" models pull kokoro --from "http://127.0.0.1:$PORT" --voices af_heart,am_adam 2>/dev/null
check '[ ! -s "$T/log" ]' "re-pull downloaded again: $(cat "$T/log")"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
