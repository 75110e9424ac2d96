#!/bin/bash
# chatterbox_cli.sh — `chorus voices add|rm|--cloned` and `chorus say -b chatterbox` against the
# loopback fake of a Chatterbox server (tests/fakes/fake_chatterbox.py), decoded with sox.
set -u
BIN=${CHORUS_BIN:?}
FAKES=${CHORUS_FAKES:?}
T=$(mktemp -d)
FAKE_PID= SERVE_PID=
cleanup() {
    [ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null && wait "$FAKE_PID" 2>/dev/null
    [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
pass=0 fail=0
check() { if eval "$1"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $2" >&2; fi; }

export XDG_DATA_HOME="$T/data" CHORUS_CONFIG=/dev/null CHORUS_CACHE=0
espeak-ng -v en-us -s 140 -w "$T/ref.wav" "This is the reference recording for the test. It is long enough to clone a voice from, and spoken calmly."
sox "$T/ref.wav" -c 2 "$T/stereo.wav"  # a stereo clip is downmixed
espeak-ng -w "$T/short.wav" "Too short."
echo "not audio" > "$T/notes.txt"

# add: stored, listed, metadata kept
"$BIN" voices add narrator "$T/stereo.wav" --description "test narrator" >"$T/out" 2>"$T/err"; st=$?
check '[ $st = 0 ] && grep -q "narrator" "$T/out"' "voices add: $st $(cat "$T/err")"
check '[ -f "$T/data/chorus/voices/narrator.wav" ] && [ "$(soxi -c "$T/data/chorus/voices/narrator.wav")" = 1 ]' "stored clip is mono"
"$BIN" voices --cloned --json >"$T/list.json"
check 'python3 -c "
import json,sys
v=json.load(open(sys.argv[1]))
assert len(v)==1 and v[0][\"name\"]==\"narrator\" and v[0][\"description\"]==\"test narrator\", v
assert v[0][\"channels\"]==2 and 7.0 < v[0][\"duration\"] < 20.0, v
" "$T/list.json"' "voices --cloned --json: $(cat "$T/list.json")"
"$BIN" voices --cloned >"$T/list.txt"
check 'grep -q "^narrator" "$T/list.txt"' "voices --cloned: $(cat "$T/list.txt")"

# refusals: clear messages, exit 1, nothing stored
"$BIN" voices add tiny "$T/short.wav" 2>"$T/err"; st=$?
check '[ $st = 1 ] && grep -q "3 to 60 s" "$T/err" && [ ! -e "$T/data/chorus/voices/tiny.wav" ]' "short clip: $(cat "$T/err")"
"$BIN" voices add notes "$T/notes.txt" 2>"$T/err"; st=$?
check '[ $st = 1 ] && grep -q "cannot read the reference clip" "$T/err"' "unreadable clip: $(cat "$T/err")"
"$BIN" voices add ../../escape "$T/ref.wav" 2>"$T/err"; st=$?
check '[ $st = 1 ] && grep -q "invalid voice name" "$T/err" && [ ! -e "$T/escape.wav" ] && [ ! -e "$T/data/escape.wav" ]' "path escape: $(cat "$T/err")"
"$BIN" voices add narrator "$T/ref.wav" 2>"$T/err"; st=$?
check '[ $st = 1 ] && grep -q "already" "$T/err"' "duplicate: $(cat "$T/err")"
"$BIN" voices add onlyname 2>"$T/err"; st=$?
check '[ $st = 2 ]' "usage error exit code: $st"
check '[ -z "$(ls -A "$T/data/chorus/voices" | grep -v "^narrator\.")" ]' "no stray files: $(ls -A "$T/data/chorus/voices")"

# speak with the cloned voice through the fake devnen server
python3 "$FAKES/fake_chatterbox.py" --api devnen --log "$T/log.jsonl" >"$T/port" 2>/dev/null &
FAKE_PID=$!
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
PORT=$(awk '{print $2}' "$T/port")
export CHATTERBOX_URL="http://127.0.0.1:$PORT" CHATTERBOX_API=devnen
"$BIN" say -b chatterbox -v narrator -o "$T/say.wav" --opt exaggeration=0.9 "Hello from the cloned narrator. This sentence is spoken by the fake server." 2>"$T/err"; st=$?
check '[ $st = 0 ]' "say: $(cat "$T/err")"
check '[ "$(soxi -r "$T/say.wav")" = 24000 ] && python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) > 2.0 else 1)" "$(soxi -D "$T/say.wav")"' "say output: $(soxi "$T/say.wav" 2>&1 | tr "\n" " ")"
check '[ "$(grep -c "/upload_reference" "$T/log.jsonl")" = 1 ] && grep "/tts" "$T/log.jsonl" | grep -q "\"exaggeration\": 0.9"' "uploaded and sent: $(cat "$T/log.jsonl")"
"$BIN" backends --options 2>/dev/null | grep -A30 "^chatterbox" >"$T/opts"
check 'grep -q "exaggeration" "$T/opts" && grep -q "candidates" "$T/opts"' "options listed: $(cat "$T/opts")"
"$BIN" voices -b chatterbox >"$T/voices" 2>/dev/null
check 'grep -q "clone:narrator" "$T/voices" && grep -q "Emily.wav" "$T/voices"' "voices -b chatterbox: $(cat "$T/voices")"

# through `chorus serve`: a cloned voice and a model knob in the OpenAI-style body, mp3 out
"$BIN" serve --port 0 >"$T/serve.log" 2>&1 &
SERVE_PID=$!
for _ in $(seq 100); do grep -q "listening on" "$T/serve.log" && break; sleep 0.05; done
SURL=$(grep -o "http://127.0.0.1:[0-9]*" "$T/serve.log" | head -1)
curl -s -o "$T/srv.mp3" -w "%{http_code}" "$SURL/v1/audio/speech" -H "Content-Type: application/json" \
    -d '{"model":"chatterbox","voice":"narrator","input":"Served in the cloned voice.","response_format":"mp3","options":{"exaggeration":1.1}}' >"$T/code"
kill "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null; SERVE_PID=
check '[ "$(cat "$T/code")" = 200 ] && python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) > 1.0 else 1)" "$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$T/srv.mp3")"' "serve: $(cat "$T/code") $(cat "$T/serve.log")"
check 'grep "/tts" "$T/log.jsonl" | grep -q "\"exaggeration\": 1.1"' "serve passed the option: $(grep /tts "$T/log.jsonl" | tail -1)"

# unknown cloned voice, no partial file
"$BIN" say -b chatterbox -v clone:ghost -o "$T/ghost.wav" "Hello." 2>"$T/err"; st=$?
check '[ $st != 0 ] && grep -q "unknown cloned voice" "$T/err" && [ ! -e "$T/ghost.wav" ]' "unknown clone: $(cat "$T/err")"

# rm, then gone
"$BIN" voices rm narrator >/dev/null 2>"$T/err"; st=$?
check '[ $st = 0 ] && [ ! -e "$T/data/chorus/voices/narrator.wav" ] && [ ! -e "$T/data/chorus/voices/narrator.json" ]' "rm: $(cat "$T/err")"
"$BIN" voices rm narrator 2>"$T/err"; st=$?
check '[ $st = 1 ] && grep -q "no cloned voice" "$T/err"' "rm missing: $(cat "$T/err")"

# server down
kill "$FAKE_PID"; wait "$FAKE_PID" 2>/dev/null; FAKE_PID=
"$BIN" say -b chatterbox -v Emily -o "$T/down.wav" "Hello." 2>"$T/err"; st=$?
check '[ $st != 0 ] && grep -q "did not answer" "$T/err" && grep -q "$PORT" "$T/err" && [ ! -e "$T/down.wav" ]' "server down: $(cat "$T/err")"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
