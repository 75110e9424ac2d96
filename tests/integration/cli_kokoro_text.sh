#!/bin/bash
# cli_kokoro_text.sh — `chorus text phonemize -b kokoro` without any model file: the phonemes
# Kokoro would speak (after normalization), misaki's lexicon when installed, one warning when not.
set -u
BIN=${CHORUS_BIN:?}
DATA=${CHORUS_TEST_DATA:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
check() { if eval "$1"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $2" >&2; fi; }
export XDG_DATA_HOME="$T/xdg" CHORUS_CONFIG=/dev/null CHORUS_LOG=warn
unset KOKORO_MODEL_PATH KOKORO_VOICES_PATH KOKORO_LEXICON_DIR

# no weights, no lexicon: espeak-ng with misaki's rules; the text is normalized first (3 -> three)
out=$("$BIN" text phonemize -b kokoro --lang a "I have 3 cats." 2>"$T/err"); st=$?
check '[ $st = 0 ] && [ "$out" = "ˌI hæv θɹˈi kˈæts." ]' "us phonemes: st=$st '$out' $(cat "$T/err")"
check '[ "$(grep -c "lexicon is not installed" "$T/err")" = 1 ] && [ "$(wc -l < "$T/err")" = 1 ]' "one-line warning: $(cat "$T/err")"
check 'grep -q "chorus models pull kokoro" "$T/err"' "the warning names the fix: $(cat "$T/err")"
out=$("$BIN" text phonemize -b kokoro --lang b "After the last one." 2>/dev/null)
check '[ "$out" = "ˈɑːftə ðə lˈɑːst wˈʌn." ]' "gb phonemes: '$out'"
# the voice's first letter picks the dialect too
out=$("$BIN" text phonemize -b kokoro -v bf_emma "Where?" 2>/dev/null)
check '[ "$out" = "wˈɛː?" ]' "voice bf_emma: '$out'"

# an installed lexicon is consulted before espeak (want: wˈɑnt in the lexicon, wˈɔnt in espeak)
mkdir -p "$T/lex"
cp "$DATA/kokoro/lexicon-us.json" "$T/lex/us_gold.json"
echo '{}' > "$T/lex/us_silver.json"
out=$(KOKORO_LEXICON_DIR="$T/lex" "$BIN" text phonemize -b kokoro --lang a "I want to read." 2>"$T/err")
check '[ "$out" = "ˌI wˈɑnt tə ɹˈid." ] && [ ! -s "$T/err" ]' "with lexicon: '$out' $(cat "$T/err")"
# a corrupt lexicon: one warning naming the file, then espeak
printf '{"want": ' > "$T/lex/us_gold.json"
out=$(KOKORO_LEXICON_DIR="$T/lex" "$BIN" text phonemize -b kokoro --lang a "I want to read." 2>"$T/err")
check '[ "$out" = "ˌI wˈɔnt tə ɹˈid." ] && grep -q "us_gold.json" "$T/err"' "corrupt lexicon: '$out' $(cat "$T/err")"

# the user's pronunciations ([pronunciations] kokoro = FILE) come before everything, any case
printf '{"kokoro": "kˈOkəɹO", "read": "ɹˈɛd"}' > "$T/mine.json"
printf '[pronunciations]\nkokoro = "%s"\n' "$T/mine.json" > "$T/c.toml"
out=$(CHORUS_CONFIG="$T/c.toml" KOKORO_LEXICON_DIR="$T/lex" "$BIN" text phonemize -b kokoro --lang a "Kokoro will read." 2>/dev/null)
check '[ "$out" = "kˈOkəɹO wɪl ɹˈɛd." ]' "user pronunciations: '$out'"
# misaki's inline markup
out=$("$BIN" text phonemize -b kokoro --lang a "Say [tomato](/təmˈɑtO/)." 2>/dev/null)
check '[ "$out" = "sˈA təmˈɑtO." ]' "inline phonemes: '$out'"

# a pronunciation dictionary for every engine ([pronunciations] file, --pronunciations): its
# Kokoro IPA entry, any case, whole words only; a phrase; an entry without IPA gives its alias
cat > "$T/p.dict" <<'D'
tomato = /təmˈɑːtO/
tomato = [[t@m'A:toU]]
New York = /nˈu jˈɔːk/
SQL = sequel
D
out=$("$BIN" text phonemize -b kokoro --lang a --pronunciations "$T/p.dict" "A Tomato, tomatoes in New York and SQL." 2>/dev/null)
check '[ "$out" = "ɐ təmˈɑːtO, təmˈATOz ɪn nˈu jˈɔːk ænd sˈikwᵊl." ]' "kokoro pronunciations: '$out'"
printf '[pronunciations]\nfile = "%s"\n' "$T/p.dict" > "$T/f.toml"
out=$(CHORUS_CONFIG="$T/f.toml" "$BIN" text phonemize -b kokoro --lang a "A tomato." 2>/dev/null)
check '[ "$out" = "ɐ təmˈɑːtO." ]' "[pronunciations] file for kokoro: '$out'"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
