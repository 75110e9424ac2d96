#!/usr/bin/env bash
# server_remote.sh — `chorus serve` in front of a remote backend: the openai backend talking to
# the loopback fake OpenAI server (tests/fakes/fake_tts.py). Checks the request the fake received
# (model, voice, instructions), the audio (decoded by ffprobe), the mapping of upstream failures
# to our statuses and envelopes, that a client hanging up while the remote is slow aborts the
# transfer and frees the slot at once, and that the upstream key never reaches logs or answers.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/server/common.bash"
: "${CHORUS_FAKES:?CHORUS_FAKES must name tests/fakes}"
for tool in curl ffprobe python3; do
    command -v $tool >/dev/null || { echo "SKIP: $tool is not installed"; exit 0; }
done
S=$HERE/server/streams.py
W=$WORK
KEY="sk-FAKEKEY-server-51d2c0ffee"
python3 "$CHORUS_FAKES/fake_tts.py" --provider openai --key "$KEY" --log $W/fake.log \
    --plan ok,quota,400,slow:400 > $W/fake.port 2>/dev/null &
FAKE=$!
for _ in $(seq 100); do [ -s $W/fake.port ] && break; sleep 0.05; done
FPORT=$(awk '{print $2}' $W/fake.port)
[ -n "$FPORT" ] || { echo "the fake OpenAI server did not start" >&2; exit 1; }
export OPENAI_BASE_URL=http://127.0.0.1:$FPORT/v1 OPENAI_API_KEY=$KEY CHORUS_LOG=debug

post() {
    curl -s -D "$3.h" -o "$3" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary "$2" "$BASE$1"
}
header() { grep -i "^$1:" "$2.h" | head -1 | cut -d' ' -f2- | tr -d '\r'; }
code() { python3 -c "import json,sys; e=json.load(open(sys.argv[1]))['error']; print(e['code'])" "$1"; }

start_server -b openai
TEXT="A remote voice answers through chorus serve."
# an OpenAI model name goes to the default backend (-b openai), which gets it as its model
check "gpt-4o-mini-tts mp3: 200" test "$(post /v1/audio/speech "{\"model\":\"gpt-4o-mini-tts\",\"voice\":\"alloy\",\"input\":\"$TEXT\",\"response_format\":\"mp3\",\"instructions\":\"calm\"}" $W/r.mp3)" = 200
check "mp3 content type" test "$(header Content-Type $W/r.mp3)" = audio/mpeg
D=$(ffprobe -v error -show_entries format=duration -of csv=p=0 $W/r.mp3)
check "the mp3 decodes with the fake's duration ($D s)" python3 -c "import sys; sys.exit(0 if abs($D - ${#TEXT}/15) < 0.3 else 1)"
check "the fake got model, voice and instructions" python3 - $W/fake.log <<'PY'
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1]) if '"/v1/audio/speech"' in l or 'audio/speech' in l]
j = reqs[0]["json"]
assert j["model"] == "gpt-4o-mini-tts" and j["voice"] == "alloy" and j["instructions"] == "calm", j
PY
check "quota upstream: 429" test "$(post /v1/audio/speech '{"model":"openai","input":"third request"}' $W/e2)" = 429
check "quota upstream: insufficient_quota" test "$(code $W/e2)" = insufficient_quota
check "quota upstream: not retried" test "$(header x-should-retry $W/e2)" = false
check "400 upstream: 400" test "$(post /v1/audio/speech '{"model":"openai","input":"fourth request"}' $W/e3)" = 400
python3 -c "import json; print(json.dumps({'model': 'openai', 'input': 'A slow remote answer that takes its time to arrive. ' * 4, 'response_format': 'pcm'}))" > $W/slow.json
FREED=$(python3 $S disconnect $PORT $W/slow.json) || fail "disconnect from a slow remote stream"
check "hanging up on a slow remote stream frees the slot (${FREED}s)" python3 -c "import sys; sys.exit(0 if ${FREED:-9} < 0.2 else 1)"
stop_server
check "the upstream key is not in the server log" sh -c "! grep -q -- '${KEY:0:14}' $SERVER_LOG"
# a wrong upstream key: the fake answers 401 and echoes part of the key
WRONG="sk-WRONGKEY-0123456789abcdef"
OPENAI_API_KEY=$WRONG start_server -b openai
check "401 upstream: 500" test "$(post /v1/audio/speech '{"model":"openai/tts-1-hd","input":"second request"}' $W/e1)" = 500
check "401 upstream: upstream_auth_failed" test "$(code $W/e1)" = upstream_auth_failed
check "401 upstream: not retried" test "$(header x-should-retry $W/e1)" = false
stop_server
check "the wrong key is not in the log or the answer" sh -c "! grep -q WRONGKEY $SERVER_LOG $W/e1"
check "the upstream key is not in the server log" sh -c "! grep -q -- '${KEY:0:14}' $SERVER_LOG"
check "the upstream key is not in any answer" sh -c "! grep -q -- '${KEY:0:14}' $W/e1 $W/e2 $W/e3"
kill $FAKE 2>/dev/null; wait $FAKE 2>/dev/null
finish
