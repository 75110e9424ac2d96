#!/bin/bash
# cli_models.sh — `chorus models` against a loopback model host serving the tiny test model:
# checksums (pinned and from a manifest), resume after an interruption, atomic install, removal,
# and the kokoro backend speaking with what was installed.
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
gt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a > b) }'; }
check() { if eval "$1"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $2" >&2; fi; }

serve() { # serve ARGS... -> sets PORT and LAST; requests logged in $T/log
    : > "$T/log"; rm -f "$T/port"
    python3 "$FAKES/fake_models.py" --log "$T/log" "$@" > "$T/port" &
    LAST=$!
    pids+=($LAST)
    for _ in $(seq 400); do grep -q PORT "$T/port" 2>/dev/null && break; sleep 0.05; done
    PORT=$(awk '/PORT/ {print $2}' "$T/port")
}
MAP=(--map config.json="$DATA/tiny-config.json" --map kokoro-v1_0.pth="$DATA/tiny.pth" --map voices/af_heart.pt="$DATA/voice.pt" --map voices/am_adam.pt="$DATA/voice.pt")
# misaki's lexicons: a mirror serves them under misaki/ (the test's small lexicon stands in)
for f in us_gold us_silver gb_gold gb_silver; do MAP+=(--map "misaki/$f.json=$DATA/lexicon-us.json"); done
# the fixtures' checksums, as a mirror of your own would publish them
( cd "$DATA" && printf '%s  config.json\n%s  kokoro-v1_0.pth\n%s  voices/af_heart.pt\n%s  voices/am_adam.pt\n' \
    "$(sha256sum tiny-config.json | cut -d' ' -f1)" "$(sha256sum tiny.pth | cut -d' ' -f1)" \
    "$(sha256sum voice.pt | cut -d' ' -f1)" "$(sha256sum voice.pt | cut -d' ' -f1)"
  for f in us_gold us_silver gb_gold gb_silver; do echo "$(sha256sum lexicon-us.json | cut -d' ' -f1)  misaki/$f.json"; done ) > "$T/manifest"
pull() { "$BIN" models pull kokoro --from "http://127.0.0.1:$PORT" --manifest "$T/manifest" "$@"; }
DIR=$("$BIN" models path kokoro)
check '[ "$DIR" = "$T/data/chorus/models/kokoro" ]' "models path: $DIR"

# the published files' pinned checksums reject anything else: the fixture is not the real model
serve "${MAP[@]}"
"$BIN" models pull kokoro --from "http://127.0.0.1:$PORT" --voices af_heart 2>"$T/err"; st=$?
check '[ $st = 1 ] && grep -q "checksum mismatch for config.json" "$T/err" && grep -q "deleted" "$T/err"' "pinned checksum: st=$st $(cat "$T/err")"
check '[ -z "$(find "$DIR" -type f 2>/dev/null)" ]' "a mismatched download was kept: $(find "$DIR" -type f)"

# a corrupted transfer fails its manifest checksum and is deleted
kill $LAST; serve "${MAP[@]}" --corrupt kokoro-v1_0.pth
pull --voices af_heart 2>"$T/err"; st=$?
check '[ $st = 1 ] && grep -q "checksum mismatch for kokoro-v1_0.pth" "$T/err"' "corrupt file: st=$st $(cat "$T/err")"
check '[ ! -e "$DIR/kokoro-v1_0.pth" ] && [ ! -e "$DIR/kokoro-v1_0.pth.part" ]' "corrupt download left a file"
check '[ -s "$DIR/config.json" ]' "the good file before it was not kept"

# a file the host does not have: clear error naming it and the URL
kill $LAST; serve "${MAP[@]}" --missing voices/am_adam.pt
pull --voices af_heart,am_adam 2>"$T/err"; st=$?
check '[ $st = 1 ] && grep -q "voices/am_adam.pt" "$T/err" && grep -q "127.0.0.1:$PORT" "$T/err"' "missing file: st=$st $(cat "$T/err")"
check '[ -z "$(find "$DIR" -name "*.part")" ] && [ ! -e "$DIR/voices/am_adam.pt" ]' "404 left a file"

# one dropped connection mid-file: resumed with a Range request, same bytes in the end
"$BIN" models rm kokoro 2>/dev/null
kill $LAST; serve "${MAP[@]}" --drop-once kokoro-v1_0.pth
pull --voices af_heart 2>"$T/err"
check '[ $? = 0 ] && cmp -s "$DIR/kokoro-v1_0.pth" "$DATA/tiny.pth"' "resume after a drop: $(cat "$T/err")"
check 'grep -q "\"path\": \"/kokoro-v1_0.pth\", \"range\": \"bytes=[1-9]" "$T/log"' "no Range request after the drop: $(cat "$T/log")"

# a host that keeps dropping: the pull fails, keeps the partial download, and a later pull
# against a healthy host resumes from it instead of starting over
"$BIN" models rm kokoro 2>/dev/null
kill $LAST; serve "${MAP[@]}" --drop kokoro-v1_0.pth
pull --voices af_heart 2>"$T/err"; st=$?
check '[ $st = 1 ] && [ ! -e "$DIR/kokoro-v1_0.pth" ] && [ -s "$DIR/kokoro-v1_0.pth.part" ]' "interrupted pull: st=$st $(cat "$T/err")"
have=$(stat -c %s "$DIR/kokoro-v1_0.pth.part" 2>/dev/null || echo 0)
kill $LAST; serve "${MAP[@]}"
pull --voices af_heart 2>"$T/err"
check '[ $? = 0 ] && cmp -s "$DIR/kokoro-v1_0.pth" "$DATA/tiny.pth" && [ ! -e "$DIR/kokoro-v1_0.pth.part" ]' "resume: $(cat "$T/err")"
check 'grep -q "bytes=$have-" "$T/log"' "the second pull did not resume at $have: $(cat "$T/log")"

# bad names never reach the file system
pull --voices ../../etc/x 2>"$T/err"; st=$?
check '[ $st = 1 ] && grep -q "invalid voice name" "$T/err"' "path in voice name: $(cat "$T/err")"
"$BIN" models pull nosuch 2>"$T/err"; st=$?
check '[ $st = 1 ] && grep -q "unknown model" "$T/err"' "unknown model"

# the whole path: install, then the kokoro backend runs on what was installed
pull --voices af_heart,am_adam 2>"$T/err"
check '[ $? = 0 ] && cmp -s "$DIR/voices/am_adam.pt" "$DATA/voice.pt"' "pull failed: $(cat "$T/err")"
check 'cmp -s "$DIR/misaki/gb_silver.json" "$DATA/lexicon-us.json"' "misaki lexicons not installed: $(ls "$DIR" "$DIR/misaki" 2>&1)"
# the installed lexicon comes before espeak-ng (want: wˈɑnt there, wˈɔnt in espeak)
ph=$("$BIN" text phonemize -b kokoro -v af_heart "I want it.")
check '[ "$ph" = "ˌI wˈɑnt ɪt." ]' "kokoro phonemes with the pulled lexicon: $ph"
"$BIN" backends --json > "$T/b.json"
check 'python3 -c "import json,sys; b={x[\"name\"]:x for x in json.load(open(sys.argv[1]))}; assert b[\"kokoro\"][\"available\"], b[\"kokoro\"]" "$T/b.json"' "kokoro not available after pull"
"$BIN" say -q -b kokoro -v af_heart -o "$T/k.wav" "Hello there." 2>"$T/err"
check '[ $? = 0 ] && [ "$(soxi -r "$T/k.wav")" = 24000 ]' "say with the installed model: $(cat "$T/err")"
# Kokoro's phonemes, and phoneme input straight to the model
ph=$("$BIN" text phonemize -b kokoro -v af_heart "Hello there.")
check '[ "$ph" = "həlˈO ðˈɛɹ." ]' "kokoro phonemes: $ph"
"$BIN" say -q -b kokoro -v af_heart --phonemes -o "$T/kp.wav" "$ph" 2>"$T/err"
check '[ $? = 0 ] && [ "$(soxi -r "$T/kp.wav")" = 24000 ] && gt "$(soxi -D "$T/kp.wav")" 0.2' "kokoro phoneme input: $(cat "$T/err")"
# a second pull finds everything present and downloads nothing
kill $LAST; serve "${MAP[@]}"
pull --voices af_heart,am_adam 2>/dev/null
check '[ ! -s "$T/log" ]' "re-pull downloaded again: $(cat "$T/log")"
"$BIN" models rm kokoro 2>"$T/err"
st=$?; check '[ $st = 0 ] && [ ! -e "$DIR" ]' "rm: $(cat "$T/err"); $(find "$DIR" 2>&1)"
"$BIN" backends --json > "$T/b.json"
check 'python3 -c "import json,sys; b={x[\"name\"]:x for x in json.load(open(sys.argv[1]))}; assert not b[\"kokoro\"][\"available\"] and \"models pull kokoro\" in b[\"kokoro\"][\"reason\"]" "$T/b.json"' "after rm, the probe should name the install command"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
