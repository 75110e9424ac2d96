#!/bin/bash
# text_ssml_emulated.sh — SSML for an engine without SSML (the OpenAI backend against the
# loopback fake): breaks become silence of their length, prosody rate becomes the request's
# speed, say-as and sub reach the engine as words. The fake's audio lasts 1/15 s per character,
# so durations (read back with soxi) are exact.
set -u
BIN=${CHORUS_BIN:?}
FAKES=${CHORUS_FAKES:?}
T=$(mktemp -d)
FAKE_PID=
cleanup() { [ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
: > "$T/empty.toml"
export CHORUS_CONFIG=$T/empty.toml CHORUS_CACHE=0 CHORUS_CACHE_DIR=$T/cache
pass=0 fail=0
check() { if eval "$1"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $2" >&2; fi; }

python3 "$FAKES/fake_tts.py" --provider openai --key sk-test --log "$T/fake.log" > "$T/port" 2>"$T/fake.err" &
FAKE_PID=$!
for _ in $(seq 50); do grep -q PORT "$T/port" 2>/dev/null && break; sleep 0.1; done
PORT=$(awk '/PORT/{print $2}' "$T/port")
[ -n "$PORT" ] || { echo "fake server did not start: $(cat "$T/fake.err")"; exit 1; }
export OPENAI_BASE_URL=http://127.0.0.1:$PORT/v1 OPENAI_API_KEY=sk-test

say() { "$BIN" say -q -b openai --ssml -o "$T/$1.wav" "$2"; }
# "Hello there." is 12 characters, "The world is round." 19: 31/15 s of speech
say one '<speak>Hello there. <break time="1s"/> The world is round.</speak>'
say two '<speak>Hello there. <break time="2500ms"/> The world is round.</speak>'
d1=$(soxi -D "$T/one.wav"); d2=$(soxi -D "$T/two.wav")
check "python3 -c 'import sys; sys.exit(abs($d1 - (31/15 + 1.0)) > 0.05)'" "1 s break: $d1 s, want $(python3 -c 'print(31/15+1)')"
check "python3 -c 'import sys; sys.exit(abs($d2 - (31/15 + 2.5)) > 0.05)'" "2.5 s break: $d2 s"
# the break is silence, between the two sentences' audio
check "python3 - '$T/one.wav' <<'PY'
import sys, wave, struct
w = wave.open(sys.argv[1]); r = w.getframerate(); n = w.getnframes()
pcm = struct.unpack('<%dh' % n, w.readframes(n))
peak = lambda a, b: max(abs(x) for x in pcm[int(a * r):int(b * r)])
assert peak(0.1, 0.7) > 1000, 'first sentence'
assert peak(0.85, 1.75) < 100, peak(0.85, 1.75)
assert peak(1.9, 2.9) > 1000, 'second sentence'
PY" "silence where the break is"

before=$(wc -l < "$T/fake.log")
say three '<speak>I have <say-as interpret-as="cardinal">42</say-as> cats. <prosody rate="50%">Slow words.</prosody> <sub alias="World Wide Web">WWW</sub>.</speak>'
check "python3 - '$T/fake.log' $before <<'PY'
import sys, json
lines = open(sys.argv[1]).read().splitlines()[int(sys.argv[2]):]
reqs = [json.loads(l)['json'] for l in lines if '/audio/speech' in l]
got = [(r['input'], r.get('speed', 1.0)) for r in reqs]
assert got == [('I have forty-two cats.', 1.0), ('Slow words.', 0.5), ('World Wide Web.', 1.0)], got
PY" "requests made from the plan: $(tail -n 3 "$T/fake.log" | head -c 900)"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
