#!/bin/bash
# pronunciations.sh — pronunciation dictionaries on every kind of engine (docs/text.md,
# "Pronunciations"): espeak-ng speaks an entry through its [[phoneme]] input (the audio, decoded
# with soxi, changes by what the entry says, and the word's timestamp still covers the original
# word), the remote OpenAI backend sends the alias (the loopback fake records the request body),
# the [pronunciations] file key and --pronunciations, SSML <phoneme>/<sub>, and bad files.
set -u
BIN=${CHORUS_BIN:?}
FAKES=${CHORUS_FAKES:?}
command -v soxi >/dev/null || { echo "SKIP: soxi is not installed"; exit 0; }
T=$(mktemp -d)
FAKE_PID=
cleanup() { [ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
: > "$T/empty.toml"
export CHORUS_CONFIG=$T/empty.toml CHORUS_CACHE=0 CHORUS_CACHE_DIR=$T/cache
pass=0 fail=0
check() { if eval "$1"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $2" >&2; fi; }
# word "w" of a --timestamps file: "offset length start end"
word() { python3 -c "import json,sys; w=[x for x in json.load(open(sys.argv[1])) if x['word']==sys.argv[2]][0]; print(w['offset'], w['length'], w['start'], w['end'])" "$1" "$2"; }
gt() { python3 -c "import sys; sys.exit(0 if $1 > $2 else 1)"; }

# the entry says "tomato" three times: the word lasts much longer, and still points at "tomato"
cat > "$T/p.dict" <<'D'
# espeak mnemonics, Kokoro IPA and an alias for one word
tomato = [[t@m'A:toU t@m'A:toU t@m'A:toU]]
tomato = /təmˈɑtO/
tomato = tomahto
SQL = sequel
D
TEXT="I like a tomato here."
"$BIN" say -q -b espeak -o "$T/plain.wav" --timestamps "$T/plain.json" "$TEXT"
"$BIN" say -q -b espeak --pronunciations "$T/p.dict" -o "$T/dict.wav" --timestamps "$T/dict.json" "$TEXT" 2>"$T/err"
check '[ $? = 0 ]' "say with --pronunciations: $(cat "$T/err")"
d0=$(soxi -D "$T/plain.wav"); d1=$(soxi -D "$T/dict.wav")
check 'gt "$d1" "$d0 + 0.6"' "the entry's three tomatoes are longer: $d1 s vs $d0 s"
read -r o0 l0 s0 e0 <<< "$(word "$T/plain.json" tomato)"
read -r o1 l1 s1 e1 <<< "$(word "$T/dict.json" tomato)"
check '[ "$o1 $l1" = "9 6" ] && [ "$o0 $l0" = "9 6" ]' "the timestamp covers the original word: $o1 $l1"
check 'gt "$e1 - $s1" "$e0 - $s0 + 0.5"' "the word's time spans the entry's sound: $s1-$e1 vs $s0-$e0"
read -r oh lh sh eh <<< "$(word "$T/dict.json" here)"
check '[ "$oh $lh" = "16 4" ] && gt "$sh" "$e1 - 0.01"' "the next word keeps its place: $oh $lh at $sh"

# the config's [pronunciations] file does the same; a capital entry matches only that spelling
printf '[pronunciations]\nfile = "%s"\n' "$T/p.dict" > "$T/cfg.toml"
CHORUS_CONFIG=$T/cfg.toml "$BIN" say -q -b espeak -o "$T/cfg.wav" "$TEXT"
check '[ "$(soxi -s "$T/cfg.wav")" = "$(soxi -s "$T/dict.wav")" ]' "[pronunciations] file: $(soxi -s "$T/cfg.wav") samples"
CHORUS_CONFIG=$T/cfg.toml "$BIN" text phonemize -b espeak "a tomato" > "$T/ph" 2>&1
check 'grep -q "t@m'"'"'A:toU t@m" "$T/ph"' "espeak phonemize shows the entry: $(cat "$T/ph")"

# SSML <phoneme alphabet="x-espeak">: the same sound, the word's offset into the document
DOC='<speak>I like a <phoneme alphabet="x-espeak" ph="t@m'"'"'A:toU t@m'"'"'A:toU t@m'"'"'A:toU">tomato</phoneme> here.</speak>'
"$BIN" say -q -b espeak --ssml -o "$T/ssml.wav" --timestamps "$T/ssml.json" "$DOC" 2>"$T/err"
check '[ $? = 0 ] && gt "$(soxi -D "$T/ssml.wav")" "$d0 + 0.6"' "ssml phoneme: $(soxi -D "$T/ssml.wav") s $(cat "$T/err")"
read -r os ls_ ss es <<< "$(word "$T/ssml.json" tomato)"
check '[ "${DOC:$os:$ls_}" = tomato ]' "ssml phoneme timestamp: offset $os length $ls_"
check '"$BIN" say -q -b espeak --ssml -o "$T/x.wav" "<speak><phoneme alphabet=\"x-espeak\" ph=\"a]]b\">x</phoneme></speak>" 2>"$T/err"; [ $? = 1 ] && grep -q "line 1, column" "$T/err"' "a ph espeak cannot take is an SSML error: $(cat "$T/err")"

# bad dictionaries: the file and line, nothing written
printf 'ok = fine\n\ntomato [[x]]\n' > "$T/bad.dict"
"$BIN" say -q -b espeak --pronunciations "$T/bad.dict" -o "$T/bad.wav" "x" 2>"$T/err"; rc=$?
check '[ $rc = 1 ] && grep -q "bad.dict:3: no .=." "$T/err" && [ ! -e "$T/bad.wav" ]' "bad line: $(cat "$T/err")"
printf 'x = [[a<b]]\n' > "$T/bad2.dict"
"$BIN" say -q -b espeak --pronunciations "$T/bad2.dict" -o "$T/bad.wav" "x" 2>"$T/err"; rc=$?
check '[ $rc = 1 ] && grep -q "bad2.dict:1: espeak phonemes" "$T/err"' "bad espeak phonemes: $(cat "$T/err")"
"$BIN" say -q -b espeak --pronunciations "$T/missing.dict" -o "$T/bad.wav" "x" 2>"$T/err"; rc=$?
check '[ $rc = 1 ] && grep -q "missing.dict: cannot open" "$T/err"' "missing file: $(cat "$T/err")"

# a remote engine receives the alias; SSML <sub> gives its alias, <phoneme> its content
python3 "$FAKES/fake_tts.py" --provider openai --key sk-test --log "$T/fake.log" > "$T/port" 2>"$T/fake.err" &
FAKE_PID=$!
for _ in $(seq 50); do grep -q PORT "$T/port" 2>/dev/null && break; sleep 0.1; done
PORT=$(awk '/PORT/{print $2}' "$T/port")
[ -n "$PORT" ] || { echo "fake server did not start: $(cat "$T/fake.err")"; exit 1; }
export OPENAI_BASE_URL=http://127.0.0.1:$PORT/v1 OPENAI_API_KEY=sk-test
"$BIN" say -q -b openai --pronunciations "$T/p.dict" -o "$T/r1.wav" "A Tomato in SQL, not sql." 2>"$T/err"
"$BIN" say -q -b openai --ssml -o "$T/r2.wav" '<speak>A <phoneme alphabet="ipa" ph="təmˈɑtO">tomato</phoneme> and <sub alias="World Wide Web">WWW</sub>.</speak>' 2>>"$T/err"
check "python3 - '$T/fake.log' <<'PY'
import sys, json
reqs = [json.loads(l)['json'] for l in open(sys.argv[1]) if '/audio/speech' in l]
got = [r['input'] for r in reqs]
assert got == ['A tomahto in sequel, not sql.', 'A tomato and World Wide Web.'], got
PY" "the remote engine got the aliases: $(cat "$T/err") $(head -c 600 "$T/fake.log")"

# aliases that would make a call longer than the engine takes fail clearly, before sending
printf 'a = %s\n' "$(printf 'b%.0s' $(seq 500))" > "$T/long.dict"
n0=$(grep -c audio/speech "$T/fake.log")
"$BIN" say -q -b openai --pronunciations "$T/long.dict" -o "$T/long.wav" "$(printf 'a %.0s' $(seq 100))" 2>"$T/err"; rc=$?
check '[ $rc = 1 ] && grep -q "over openai.s limit of 4096" "$T/err" && [ "$(grep -c audio/speech "$T/fake.log")" = "$n0" ]' "too long with aliases: $(cat "$T/err")"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
