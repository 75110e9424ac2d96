#!/bin/bash
# cli_text.sh — `chorus text ...` prints what the text stage makes of an input.
set -u
BIN=${CHORUS_BIN:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
check() { if eval "$1"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $2" >&2; fi; }

out=$("$BIN" text normalize 'It costs $12.50, about 25% more than in 1984.')
check '[ "$out" = "It costs twelve dollars and fifty cents, about twenty-five percent more than in nineteen eighty-four." ]' "normalize: $out"
out=$("$BIN" text normalize --options url_normalization=false 'see example.com now')
check '[[ "$out" == *"example.com"* ]]' "url_normalization=false ignored: $out"
"$BIN" text normalize --options bogus=1 hi 2>"$T/err"; st=$?
check '[ $st = 1 ] && grep -q "bogus" "$T/err"' "bad normalization option: $(cat "$T/err")"

# chunks never exceed the limit and cover the input in order
"$BIN" text chunk --json --max 40 "$(python3 -c "print('Words and more words, sentence after sentence. ' * 20)")" > "$T/c.json"
check 'python3 - "$T/c.json" <<PY
import json, sys
c = json.load(open(sys.argv[1]))
assert len(c) > 10, len(c)
assert all(len(x["text"].encode()) <= 40 for x in c), [x["text"] for x in c]
assert all(a["offset"] + a["length"] <= b["offset"] for a, b in zip(c, c[1:])), c
PY' "chunk limits/order"

printf '<speak>One<break time="1s"/><prosody rate="50%%">two</prosody></speak>' > "$T/s.xml"
"$BIN" text ssml --json "$T/s.xml" > "$T/s.json"
check 'python3 -c "import json,sys; s=json.load(open(sys.argv[1])); assert s[1][\"pause_before\"] >= 0.99 and abs(s[1][\"rate\"] - 0.5) < 1e-6, s" "$T/s.json"' "ssml plan"
printf '<speak>oops</speek>' > "$T/bad.xml"
"$BIN" text ssml "$T/bad.xml" 2>"$T/err"; st=$?
check '[ $st = 1 ] && grep -q "line 1, column" "$T/err"' "ssml error position: $(cat "$T/err")"
check '[ "$("$BIN" text lang "Der Hund schläft unter dem Tisch und die Katze auch." | cut -d" " -f1)" = de ]' "lang de"
check '[ "$("$BIN" text lang "Это русский текст." | cut -d" " -f1)" = ru ]' "lang ru"
# phonemize: what --phonemes takes back; speaking them sounds the same as the text
: > "$T/empty.toml"
export CHORUS_CONFIG=$T/empty.toml CHORUS_CACHE=0
ph=$("$BIN" text phonemize -b espeak "Hello world.")
check '[ "$ph" = "h@l'"'"'oU w'"'"'3:ld" ]' "espeak phonemes: $ph"
"$BIN" say -q -b espeak --phonemes -o "$T/ph.wav" "$ph" && "$BIN" say -q -b espeak -o "$T/tx.wav" "Hello world."
check '[ "$(soxi -s "$T/ph.wav")" = "$(soxi -s "$T/tx.wav")" ]' "phoneme round trip differs: $(soxi -s "$T/ph.wav") vs $(soxi -s "$T/tx.wav")"
"$BIN" text phonemize -b openai hi 2>"$T/err"; st=$?
check '[ $st = 1 ] && [ -s "$T/err" ]' "phonemize on a backend without phonemes: $(cat "$T/err")"
"$BIN" text frob x 2>/dev/null; check '[ $? = 2 ]' "unknown text command is a usage error"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
