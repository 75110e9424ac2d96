#!/usr/bin/env bash
# server_pronunciations.sh — per-request "pronunciations" on POST /v1/audio/speech (docs/server.md):
# an espeak entry changes the audio (decoded by soxi) and the captioned timestamps still point at
# the word in the input; an alias reaches a remote engine (the loopback OpenAI fake records the
# body); hostile values (phonemes espeak-ng cannot take, too many entries, wrong types) are 400s
# naming the field, and nothing is read from files.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/server/common.bash"
: "${CHORUS_FAKES:?CHORUS_FAKES must name tests/fakes}"
for tool in curl soxi python3; do
    command -v $tool >/dev/null || { echo "SKIP: $tool is not installed"; exit 0; }
done
W=$WORK
export CHORUS_CACHE=0
python3 "$CHORUS_FAKES/fake_tts.py" --provider openai --key sk-test --log $W/fake.log > $W/fake.port 2>/dev/null &
FAKE=$!
for _ in $(seq 100); do [ -s $W/fake.port ] && break; sleep 0.05; done
FPORT=$(awk '{print $2}' $W/fake.port)
[ -n "$FPORT" ] || { echo "the fake OpenAI server did not start" >&2; exit 1; }
export OPENAI_BASE_URL=http://127.0.0.1:$FPORT/v1 OPENAI_API_KEY=sk-test

post() { curl -s -o "$3" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary "$2" "$BASE$1"; }
param() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['error'].get('param'))" "$1"; }

start_server -b espeak
TEXT="I like a tomato here."
check "plain: 200" test "$(post /v1/audio/speech "{\"model\":\"espeak\",\"input\":\"$TEXT\",\"response_format\":\"wav\",\"stream\":false}" $W/plain.wav)" = 200
BODY='{"model":"espeak","input":"'"$TEXT"'","response_format":"wav","stream":false,"pronunciations":{"tomato":{"phonemes":"t@mA:toU t@mA:toU t@mA:toU","alphabet":"x-espeak"}}}'
check "with pronunciations: 200" test "$(post /v1/audio/speech "$BODY" $W/dict.wav)" = 200
D0=$(soxi -D $W/plain.wav); D1=$(soxi -D $W/dict.wav)
check "the entry changes the audio ($D1 s vs $D0 s)" python3 -c "import sys; sys.exit(0 if $D1 > $D0 + 0.6 else 1)"
# captioned: the word's timestamp still names "tomato" at its offset in the input
CAP='{"model":"espeak","input":"'"$TEXT"'","response_format":"wav","stream":false,"pronunciations":{"tomato":{"phonemes":"t@mA:toU t@mA:toU t@mA:toU","alphabet":"x-espeak"}}}'
check "captioned: 200" test "$(post /v1/audio/speech/captioned "$CAP" $W/cap.json)" = 200
check "captioned timestamps point at the original word" python3 - $W/cap.json <<'PY'
import json, sys
ts = [t for l in open(sys.argv[1]) if l.strip() for t in json.loads(l)["timestamps"]]
w = [t for t in ts if t["word"] == "tomato"]
assert w and w[0]["offset"] == 9 and w[0]["length"] == 6, ts
assert w[0]["end_time"] - w[0]["start_time"] > 0.8, w
PY
# hostile or wrong: 400 naming the field; a phoneme string espeak-ng must not see is refused
bad() { # bad DESCRIPTION JSON-PRONUNCIATIONS
    local c; c=$(post /v1/audio/speech "{\"model\":\"espeak\",\"input\":\"x\",\"pronunciations\":$2}" $W/bad.json)
    check "$1: 400 ($c, $(head -c 300 $W/bad.json))" test "$c" = 400
}
bad "phonemes closing espeak's input" '{"x":{"phonemes":"a]] [[b","alphabet":"x-espeak"}}'
check "the library's check names the field" test "$(param $W/bad.json)" = pronunciations
bad "an unknown alphabet" '{"x":{"phonemes":"a","alphabet":"x-sampa"}}'
bad "a number" '{"x":5}'
bad "an unknown field" '{"x":{"file":"/etc/passwd"}}'
bad "not an object" '["x"]'
bad "an empty word" '{"":"y"}'
bad "a control character" '{"x":"a\u0001b"}'
bad "a long alias" "{\"x\":\"$(printf 'a%.0s' $(seq 600))\"}"
bad "too many entries" "$(python3 -c 'import json; print(json.dumps({"w%d" % i: "x" for i in range(300)}))')"
check "the field is named" test "$(param $W/bad.json)" = pronunciations
stop_server

# a remote engine gets the alias
start_server -b openai
check "remote with an alias: 200" test "$(post /v1/audio/speech '{"model":"openai","input":"Use nginx and SQL.","pronunciations":{"nginx":"engine x","SQL":{"alias":"sequel","phonemes":"sˈikwəl"}}}' $W/r.mp3)" = 200
check "the fake got the aliases" python3 - $W/fake.log <<'PY'
import json, sys
got = [json.loads(l)["json"]["input"] for l in open(sys.argv[1]) if "audio/speech" in l]
assert got == ["Use engine x and sequel."], got
PY
stop_server
kill $FAKE 2>/dev/null
finish
