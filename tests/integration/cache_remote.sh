#!/bin/bash
# cache_remote.sh — the audio cache in front of a remote engine: the OpenAI backend against the
# loopback fake (tests/fakes/fake_tts.py). A hit sends no request at all; the output format is
# part of a remote entry's key; a failed request leaves no entry; the API key never reaches the
# cache directory. Outputs are checked with sox/ffprobe, independent decoders.
set -u
BIN=${CHORUS_BIN:?}
FAKES=${CHORUS_FAKES:?}
T=$(mktemp -d)
FAKE_PIDS=()
cleanup() {
    for p in "${FAKE_PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT
export HOME=$T/home XDG_CACHE_HOME=$T/xdg CHORUS_CACHE=1
unset CHORUS_CACHE_DIR OPENAI_API_KEY
mkdir -p "$HOME"
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
check() { if eval "$1"; then ok; else bad "$2"; fi; }
stat_of() { "$BIN" cache stats --json | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
gt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a > b) }'; }
KEY=sk-cache-test-0123456789abcdef

# start_fake NAME ARGS...: runs the fake, sets PORT
start_fake() {
    local name=$1; shift
    python3 "$FAKES/fake_tts.py" --provider openai --key "$KEY" --log "$T/$name.log" "$@" >"$T/$name.port" 2>"$T/$name.err" &
    FAKE_PIDS+=($!)
    for _ in $(seq 100); do grep -q PORT "$T/$name.port" 2>/dev/null && break; sleep 0.05; done
    PORT=$(awk '/PORT/ {print $2}' "$T/$name.port")
    [ -n "$PORT" ] || { echo "fake did not start: $(cat "$T/$name.err")" >&2; exit 1; }
}
requests() { grep -c '"/v1/audio/speech"' "$T/$1.log" 2>/dev/null || echo 0; }

start_fake good
printf '[openai]\nbase_url = "http://127.0.0.1:%s/v1"\napi_key = "%s"\n' "$PORT" "$KEY" > "$T/good.toml"
export CHORUS_CONFIG=$T/good.toml
TEXT="Remote speech costs money, so the cache keeps it."

"$BIN" say -q -b openai -v alloy -o "$T/a.wav" "$TEXT" 2>"$T/err"
check '[ $? = 0 ]' "first remote say failed: $(cat "$T/err")"
check '[ "$(requests good)" = 1 ]' "first say sent $(requests good) requests, want 1"
check 'gt "$(soxi -D "$T/a.wav")" 1' "remote audio too short"
"$BIN" say -q -b openai -v alloy -o "$T/b.wav" "$TEXT"
check '[ "$(requests good)" = 1 ]' "a cache hit still sent a request"
check 'cmp -s "$T/a.wav" "$T/b.wav"' "cached remote WAV differs"
check '[ "$(stat_of hits)" = 1 ]' "remote hit not counted"

# the CLI decodes what the provider sends and encodes locally: another format is a hit
"$BIN" say -q -b openai -v alloy -F mp3 -o "$T/c.mp3" "$TEXT"
check '[ "$(requests good)" = 1 ]' "mp3 after wav asked the provider again"
dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$T/c.mp3" 2>/dev/null)
check 'gt "${dur:-0}" 1' "mp3 from the cache does not decode (duration '$dur')"
# another voice misses
"$BIN" say -q -b openai -v nova -o "$T/e.wav" "$TEXT"
check '[ "$(requests good)" = 2 ]' "another voice should miss"
# --no-cache goes to the provider
"$BIN" say -q --no-cache -b openai -v alloy -o "$T/f.wav" "$TEXT"
check '[ "$(requests good)" = 3 ]' "--no-cache did not reach the provider"

# the server passes the provider's bytes straight through: there the format is part of the key
"$BIN" serve --host 127.0.0.1 --port 0 --port-file "$T/srv.port" 2>"$T/srv.log" &
FAKE_PIDS+=($!)
for _ in $(seq 100); do [ -s "$T/srv.port" ] && break; sleep 0.05; done
SRV=http://127.0.0.1:$(cat "$T/srv.port")
speech() { curl -s -o "$2" -w '%{http_code}' -H 'Content-Type: application/json' \
    -d "{\"model\":\"openai/tts-1\",\"input\":\"$TEXT\",\"voice\":\"alloy\",\"response_format\":\"$1\"}" "$SRV/v1/audio/speech"; }
check '[ "$(speech mp3 "$T/s1.mp3")" = 200 ]' "server mp3 request failed: $(cat "$T/srv.log")"
check '[ "$(requests good)" = 4 ]' "server mp3 (passthrough) should reach the provider once"
check '[ "$(speech mp3 "$T/s2.mp3")" = 200 ] && [ "$(requests good)" = 4 ]' "server mp3 repeat not served from the cache"
check 'cmp -s "$T/s1.mp3" "$T/s2.mp3"' "cached passthrough mp3 differs"
dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$T/s2.mp3" 2>/dev/null)
check 'gt "${dur:-0}" 1' "cached passthrough mp3 does not decode (duration '$dur')"

# secrets never reach the cache directory
check '! grep -rqa -- "$KEY" "$XDG_CACHE_HOME"' "the API key was written into the cache"

# a failing provider leaves no entry
before=$(stat_of entries)
start_fake broken --plan 500,500,500,500,500,500,500,500
printf '[openai]\nbase_url = "http://127.0.0.1:%s/v1"\napi_key = "%s"\n' "$PORT" "$KEY" > "$T/broken.toml"
CHORUS_CONFIG=$T/broken.toml "$BIN" say -q -b openai -v alloy -o "$T/g.wav" "This request fails on the server." 2>"$T/err"
check '[ $? != 0 ]' "say against a failing provider succeeded"
check '[ "$(stat_of entries)" = "$before" ]' "a failed request left a cache entry"
check '[ "$(find "$XDG_CACHE_HOME/chorus/tmp" -type f | wc -l)" = 0 ]' "a failed request left a temporary file"
check '[ ! -e "$T/g.wav" ]' "a failed request left an output file"

echo "cache_remote: $pass passed, $fail failed"
[ "$fail" = 0 ]
