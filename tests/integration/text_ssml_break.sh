#!/bin/bash
# text_ssml_break.sh — an SSML <break> lengthens the synthesized audio by about its time.
# Durations are read back with an independent decoder (soxi, from sox).
set -u
BIN=${CHORUS_BIN:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
: > "$T/empty.toml"
export CHORUS_CONFIG=$T/empty.toml CHORUS_CACHE=0 CHORUS_CACHE_DIR=$T/cache
pass=0 fail=0
check() { if eval "$1"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $2" >&2; fi; }

say() { "$BIN" say -q -b espeak --ssml -o "$T/$1.wav" "$2"; }
say none '<speak>Hello there. The world is round.</speak>'
say one '<speak>Hello there. <break time="1s"/> The world is round.</speak>'
say three '<speak>Hello there. <break time="3000ms"/> The world is round.</speak>'
d0=$(soxi -D "$T/none.wav"); d1=$(soxi -D "$T/one.wav"); d3=$(soxi -D "$T/three.wav")
echo "durations: none $d0 s, 1 s break $d1 s, 3 s break $d3 s"
# the engine drops its own sentence pause where a break stands, so 1 s adds a bit less than 1 s
check "python3 -c 'import sys; d=$d1-$d0; sys.exit(not 0.4 <= d <= 1.2)'" "1 s break added $d1 - $d0"
# between two breaks the difference is the difference of their times
check "python3 -c 'import sys; d=$d3-$d1; sys.exit(not 1.8 <= d <= 2.2)'" "3 s vs 1 s break: $d3 - $d1"
# the gap is silence: the loudest sample in the middle of the 3 s break is near zero
check "python3 - '$T/three.wav' $d0 <<'PY'
import sys, wave, struct
w = wave.open(sys.argv[1]); rate = w.getframerate(); n = w.getnframes()
pcm = struct.unpack('<%dh' % n, w.readframes(n))
# the break starts after 'Hello there.' (well under the break-less length); look 1.0-2.0 s past 1.2 s
seg = pcm[int(2.2 * rate):int(3.2 * rate)]
assert max(abs(x) for x in seg) < 200, max(abs(x) for x in seg)
PY" "silence inside the break"
# malformed SSML: the error names line and column, and no file is left
"$BIN" say -q -b espeak --ssml -o "$T/bad.wav" $'<speak>\n<break time="1s">\n</speak>' 2>"$T/err"; st=$?
check '[ $st != 0 ] && grep -q "line 3, column" "$T/err" && [ ! -e "$T/bad.wav" ]' "bad ssml: $(cat "$T/err")"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
