#!/bin/sh
# g2p_agreement.sh — how often Kokoro's English G2P in chorus gives, word for word, the phonemes
# misaki gives (hexgrad/misaki, what Kokoro-82M was trained on), on bench/data/g2p_text.txt
# (public domain: the Gettysburg Address and the Declaration of Independence's opening).
#
# usage: bench/g2p_agreement.sh BUILD_DIR MISAKI_CHECKOUT [LEXICON_DIR]
#   MISAKI_CHECKOUT: a checkout of github.com/hexgrad/misaki (commit fba1236), whose en.py makes
#   the reference (bench/g2p_misaki_ref.py: its own rules and lexicons, tokens and tags supplied,
#   its EspeakFallback on espeak-ng 1.51). LEXICON_DIR: misaki's JSON files as `chorus models
#   pull kokoro` installs them (default MISAKI_CHECKOUT/misaki/data).
# Prints, for en-us and en-gb, chorus without and with the lexicons: the share of words identical
# to misaki's, identical once stress marks are ignored, and audibly different (still different
# after ignoring stress, length marks and the choice among the reduced vowels ə ᵊ ɪ ᵻ ɐ).
set -eu
B=$1
M=$2
L=${3:-$M/misaki/data}
HERE=$(cd "$(dirname "$0")" && pwd)
TEXT=$HERE/data/g2p_text.txt
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
for lang in a b; do
    gb=""; [ $lang = b ] && gb=--british
    python3 "$HERE/g2p_misaki_ref.py" --misaki "$M" $gb "$TEXT" > "$T/ref"
    "$B/bench/bench_kokoro_g2p" --words --lang $lang "$TEXT" > "$T/espeak"
    "$B/bench/bench_kokoro_g2p" --words --lang $lang --lexicon "$L" "$TEXT" > "$T/lexicon"
    for mode in espeak lexicon; do
        python3 - "$T/ref" "$T/$mode" "$lang" "$mode" <<'PY'
import re, sys
ref = [l.rstrip("\n").split("\t") for l in open(sys.argv[1], encoding="utf-8")]
got = [l.rstrip("\n").split("\t") for l in open(sys.argv[2], encoding="utf-8")]
if [w for w, _ in ref] != [w for w, _ in got]:
    sys.exit("word lists differ: %d vs %d words" % (len(ref), len(got)))
def nostress(p): return re.sub("[ˈˌ]", "", p)
def audible(p): return re.sub("[əᵊɪᵻɐ]", "ə", nostress(p).replace("ː", ""))
n = len(ref)
exact = sum(a == b for (_, a), (_, b) in zip(ref, got))
ns = sum(nostress(a) == nostress(b) for (_, a), (_, b) in zip(ref, got))
aud = sum(audible(a) != audible(b) for (_, a), (_, b) in zip(ref, got))
lang = "en-us" if sys.argv[3] == "a" else "en-gb"
print("%s %-8s %d words: identical %.1f%%, ignoring stress %.1f%%, audibly different %.1f%%"
      % (lang, sys.argv[4], n, 100 * exact / n, 100 * ns / n, 100 * aud / n))
PY
    done
done
