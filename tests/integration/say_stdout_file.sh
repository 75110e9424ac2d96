#!/bin/bash
# say_stdout_file.sh — `chorus say > FILE` makes the same file as `chorus say -o FILE`:
# an MP3 gets LAME's Info frame (exact length, gapless delay and padding), so ffprobe reads the
# length instead of estimating it from the bitrate and the decoded length matches the WAV's;
# a WAV gets its exact sizes. Appending (>>) or a pipe stays a plain stream, never a header
# written over the end. Decoded with ffprobe/ffmpeg, an independent decoder.
set -u
BIN=${CHORUS_BIN:?}
for tool in ffprobe ffmpeg cmp; do command -v $tool >/dev/null || { echo "SKIP: no $tool"; exit 0; }; done
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
: > "$T/empty.toml"
export CHORUS_CACHE=0 CHORUS_CACHE_DIR=$T/cache CHORUS_CONFIG=$T/empty.toml
pass=0 fail=0
check() { if eval "$1"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $2" >&2; fi; }
TEXT="The wind moved in the old trees. A farmer walked to the barn."
say() { "$BIN" say -q -b espeak "$@" "$TEXT"; }

say -F wav -o "$T/ref.wav" || fail=$((fail + 1))
say -F mp3 > "$T/out.mp3" || fail=$((fail + 1))
say -F mp3 -o "$T/file.mp3" || fail=$((fail + 1))
say -F wav > "$T/out.wav" || fail=$((fail + 1))
say -F mp3 | cat > "$T/pipe.mp3" || fail=$((fail + 1))
: > "$T/append.mp3"
say -F mp3 >> "$T/append.mp3" || fail=$((fail + 1))

dur() { ffprobe -v error -show_entries format=duration -of csv=p=0 "$1"; }
# decoded length: the samples ffmpeg returns (gapless trimming applied), in seconds
decoded() { ffmpeg -v error -i "$1" -f s16le -ac 1 -ar 22050 - | wc -c | awk '{ printf "%.4f", $1 / 2 / 22050 }'; }
has_tag() { head -c 64 "$1" | grep -qa -e Info -e Xing; }
within() { awk -v a="$1" -v b="$2" -v d="$3" 'BEGIN { x = a - b; if (x < 0) x = -x; exit !(x <= d) }'; }

w=$(dur "$T/ref.wav")
check "has_tag '$T/out.mp3'" "say > out.mp3 starts with an Info/Xing frame"
check "! ffprobe -v info '$T/out.mp3' 2>&1 | grep -q 'Estimating duration'" "ffprobe estimates out.mp3's duration from the bitrate"
m=$(dur "$T/out.mp3"); d=$(decoded "$T/out.mp3")
pd=$(decoded "$T/pipe.mp3")
# ffprobe's container duration counts whole frames (its start_time is the skipped delay); the
# decoded length is what a listener gets
echo "wav $w s; say > out.mp3: ffprobe $m s, decoded $d s; piped mp3 (no tag): decoded $pd s"
check "within '$d' '$w' 0.030" "decoded out.mp3 lasts $d s vs the wav's $w s"
check "! within '$pd' '$w' 0.030" "the untagged stream decodes to $pd s: this check cannot tell tags apart"
check "cmp -s '$T/out.mp3' '$T/file.mp3'" "say > out.mp3 differs from say -o file.mp3"
riff=$(od -An -tx1 -j4 -N4 "$T/out.wav" | tr -d ' \n')
check "[ '$riff' != ffffffff ] && cmp -s '$T/out.wav' '$T/ref.wav'" "say > out.wav differs from -o (RIFF size $riff)"
check "! has_tag '$T/pipe.mp3'" "a piped mp3 has an Info frame"
check "cmp -s '$T/append.mp3' '$T/pipe.mp3'" "say >> FILE is not the plain stream (a header was written into it)"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
