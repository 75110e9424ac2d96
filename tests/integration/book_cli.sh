#!/bin/bash
# book_cli.sh — `chorus book` end to end. EPUBs are written by an independent writer (pandoc,
# EPUB 2 and 3, from Markdown written here) or by hand with Python's zipfile where pandoc cannot
# make the case (two chapters in one XHTML, one chapter across two files, HTML entities, malformed
# packages, a zip bomb). Outputs are checked with ffprobe/ffmpeg/sox, independent of chorus.
set -u
BIN=${CHORUS_BIN:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
: > "$T/empty.toml"
export CHORUS_CONFIG=$T/empty.toml
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
check() { if eval "$1"; then ok; else bad "$2"; fi; }
expect_err() { # STATUS PATTERN -- command...
    local want=$1 pat=$2; shift 3
    "$@" >"$T/out" 2>"$T/err" </dev/null
    local got=$?
    if [ "$got" != "$want" ]; then bad "'$*' exited $got, want $want: $(cat "$T/err")"; return; fi
    if ! grep -qiE -- "$pat" "$T/err"; then bad "'$*' said '$(cat "$T/err")', want /$pat/"; return; fi
    ok
}
near() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }'; }
dur() { ffprobe -v error -show_entries format=duration -of csv=p=0 "$1"; }

# ---------------------------------------------------------------- fixtures
cat > "$T/book.md" <<'EOF'
---
title: The Quiet Harbour
author: Ada Example
lang: en-GB
---

# The Arrival

The ship came in at dawn. Fog lay on the water and the gulls cried over the old trees.

"Are we there?" asked the boy. "Almost," said his mother.

# The Market

A farmer walked to the barn. He sold twelve apples on market day.[^1]

[^1]: FOOTNOTE-TEXT prices were higher in the winter.

# The Storm

Rain fell for three days. Nobody left the harbour, and the lamps burned all night.
EOF
# a 64x64 PNG cover, written by Python (no image library needed)
python3 - "$T/cover.png" <<'EOF'
import struct, sys, zlib
w = h = 64
raw = b''.join(b'\x00' + b'\x20\x60\xc0' * w for _ in range(h))
def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d))
open(sys.argv[1], 'wb').write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0))
                              + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))
EOF
pandoc "$T/book.md" -t epub3 --epub-cover-image="$T/cover.png" -o "$T/b3.epub" 2>"$T/err" ||
    bad "pandoc epub3: $(cat "$T/err")"
pandoc "$T/book.md" -t epub2 -o "$T/b2.epub" 2>"$T/err" || bad "pandoc epub2: $(cat "$T/err")"

# hand-made EPUB 2: two chapters in one XHTML (split at anchors), one chapter across two files,
# HTML entities an XML parser would refuse, an aside, a linear="no" item, a NCX
python3 - "$T/hand.epub" <<'EOF'
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1], 'w')
z.writestr(zipfile.ZipInfo('mimetype'), 'application/epub+zip')
z.writestr('META-INF/container.xml', '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles><rootfile full-path="OPS/pkg.opf" media-type="application/oebps-package+xml"/></rootfiles></container>')
z.writestr('OPS/pkg.opf', '''<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="2.0"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Hand Made</dc:title><dc:creator>B. Writer</dc:creator><dc:language>en</dc:language></metadata>
<manifest><item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/><item id="a" href="text/one%20two.xhtml" media-type="application/xhtml+xml"/><item id="b" href="text/three-a.xhtml" media-type="application/xhtml+xml"/><item id="c" href="text/three-b.xhtml" media-type="application/xhtml+xml"/><item id="x" href="text/extra.xhtml" media-type="application/xhtml+xml"/></manifest>
<spine toc="ncx"><itemref idref="a"/><itemref idref="x" linear="no"/><itemref idref="b"/><itemref idref="c"/></spine></package>''')
z.writestr('OPS/toc.ncx', '''<?xml version="1.0"?><ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" version="2005-1"><navMap>
<navPoint id="p1"><navLabel><text>First Light</text></navLabel><content src="text/one%20two.xhtml#c1"/></navPoint>
<navPoint id="p2"><navLabel><text>Second Wind</text></navLabel><content src="text/one%20two.xhtml#c2"/></navPoint>
<navPoint id="p3"><navLabel><text>Third Time</text></navLabel><content src="text/three-a.xhtml"/></navPoint></navMap></ncx>''')
z.writestr('OPS/text/one two.xhtml', '''<html><head><title>x</title></head><body>
<h2 id="c1">First Light</h2><p>Caf&eacute; ALPHA-ONE opens&nbsp;early &mdash; always.</p>
<aside><p>ASIDE-TEXT should not be read.</p></aside><script>SCRIPT-TEXT</script>
<h2 id="c2">Second Wind</h2><p>BRAVO-TWO came later<br>and stayed.</p></body></html>''')
z.writestr('OPS/text/three-a.xhtml', '<html><body><h2>Third Time</h2><p>CHARLIE-THREE begins here.</p></body></html>')
z.writestr('OPS/text/three-b.xhtml', '<html><body><p>DELTA-FOUR ends the third chapter.</p></body></html>')
z.writestr('OPS/text/extra.xhtml', '<html><body><p>NONLINEAR-TEXT</p></body></html>')
z.close()
EOF

# ---------------------------------------------------------------- reading
"$BIN" book --list "$T/b3.epub" > "$T/list3" 2>"$T/err"
check '[ $? = 0 ]' "--list epub3 failed: $(cat "$T/err")"
check 'grep -q "The Quiet Harbour — Ada Example (epub, en-GB)" "$T/list3"' "epub3 metadata: $(head -1 "$T/list3")"
check 'grep -q "^3 chapters" "$T/list3"' "epub3 chapters: $(cat "$T/list3")"
check 'grep -q " The Arrival$" "$T/list3" && grep -q " The Market$" "$T/list3" && grep -q " The Storm$" "$T/list3"' \
      "epub3 titles are not the book's: $(cat "$T/list3")"
check '! grep -q "Chapter [0-9]" "$T/list3"' "made-up chapter titles: $(cat "$T/list3")"
"$BIN" book --list "$T/b2.epub" > "$T/list2" 2>"$T/err"
check 'grep -q " The Market$" "$T/list2" && grep -q " The Storm$" "$T/list2"' "epub2 (NCX) chapters: $(cat "$T/list2")"
n_market=$(grep -n " The Market$" "$T/list2" | cut -d: -f1)
"$BIN" book --text $((n_market - 1)) "$T/b2.epub" > "$T/t" 2>&1
check 'grep -q "twelve apples" "$T/t" && ! grep -q FOOTNOTE-TEXT "$T/t"' "epub2 footnote read aloud: $(cat "$T/t")"
"$BIN" book --text 2 "$T/b3.epub" > "$T/t" 2>&1
check 'grep -q "twelve apples" "$T/t" && ! grep -q FOOTNOTE-TEXT "$T/t"' "epub3 footnote read aloud: $(cat "$T/t")"

"$BIN" book --list "$T/hand.epub" > "$T/listh" 2>"$T/err"
check 'grep -q "^3 chapters" "$T/listh" && grep -q " First Light$" "$T/listh" && grep -q " Second Wind$" "$T/listh" && grep -q " Third Time$" "$T/listh"' \
      "anchor-split chapters: $(cat "$T/listh") $(cat "$T/err")"
"$BIN" book --text 1 "$T/hand.epub" > "$T/t1" 2>&1
"$BIN" book --text 2 "$T/hand.epub" > "$T/t2" 2>&1
"$BIN" book --text 3 "$T/hand.epub" > "$T/t3" 2>&1
check 'grep -q "Café ALPHA-ONE opens early — always." "$T/t1"' "entities: $(cat "$T/t1")"
check '! grep -q BRAVO "$T/t1" && grep -q BRAVO-TWO "$T/t2" && ! grep -q ALPHA "$T/t2"' "chapters in one file not split at the anchor"
check '! grep -qE "ASIDE-TEXT|SCRIPT-TEXT" "$T/t1"' "aside or script read: $(cat "$T/t1")"
check 'grep -q CHARLIE-THREE "$T/t3" && grep -q DELTA-FOUR "$T/t3"' "chapter across two files: $(cat "$T/t3")"
check '! grep -q NONLINEAR "$T/t1" "$T/t2" "$T/t3"' "a linear=no item was read"

"$BIN" book --list "$T/book.md" > "$T/listm" 2>&1
check 'grep -q "^3 chapters" "$T/listm" && grep -q "(markdown, en-GB)" "$T/listm"' "markdown chapters: $(cat "$T/listm")"
{ printf 'Title: A Test Novel\nAuthor: Nobody\nLanguage: English\n\n*** START OF THE PROJECT GUTENBERG EBOOK X ***\n\n'
  printf 'CHAPTER I.\n\nThe Beginning\n\nIt was a dark night. The wind blew\nacross the moor.\n\n'
  printf 'CHAPTER II.\n\nIt rained in the morning.\n\n*** END OF THE PROJECT GUTENBERG EBOOK X ***\nLICENCE-TEXT\n'; } > "$T/novel.txt"
"$BIN" book --list "$T/novel.txt" > "$T/listt" 2>&1
check 'grep -q "A Test Novel — Nobody (text, en)" "$T/listt" && grep -q "CHAPTER I. The Beginning$" "$T/listt" && grep -q "^2 chapters" "$T/listt"' \
      "text chapters: $(cat "$T/listt")"
"$BIN" book --text 2 "$T/novel.txt" > "$T/t" 2>&1
check '! grep -q LICENCE-TEXT "$T/t"' "Gutenberg licence read aloud"
"$BIN" book --text 1 "$T/novel.txt" > "$T/t" 2>&1
check 'grep -q "The wind blew across the moor." "$T/t"' "hard-wrapped lines not joined: $(cat "$T/t")"

# ---------------------------------------------------------------- M4B
"$BIN" book -q "$T/b3.epub" -o "$T/b.m4b" --subtitles srt 2>"$T/err"
check '[ $? = 0 ] && [ -s "$T/b.m4b" ]' "m4b render failed: $(cat "$T/err")"
ffprobe -v error -show_chapters -of csv=p=0 "$T/b.m4b" > "$T/ch" 2>&1
check '[ "$(wc -l < "$T/ch")" = 3 ]' "m4b chapter count: $(cat "$T/ch")"
check 'cut -d, -f7 "$T/ch" | tr "\n" "|" | grep -qx "The Arrival|The Market|The Storm|"' "m4b chapter titles: $(cat "$T/ch")"
# chapter starts = the sum of the chapter files' durations, measured by ffprobe, within 50 ms
acc=0 i=0
for f in "$T/b.m4b.chorus-job"/ch000[123].aac; do
    i=$((i + 1))
    start=$(sed -n "${i}p" "$T/ch" | cut -d, -f4)
    check 'near "$start" "$acc" 0.05' "chapter $i starts at $start, its audio at $acc"
    frames=$(ffprobe -v error -count_packets -show_entries stream=nb_read_packets -of csv=p=0 "$f")
    acc=$(awk -v a="$acc" -v d="$frames" 'BEGIN { print a + d * 1024 / 24000 }')
done
check 'near "$(dur "$T/b.m4b")" "$acc" 0.05' "m4b duration $(dur "$T/b.m4b") != sum of chapters $acc"
tags=$(ffprobe -v error -show_entries format_tags=title,artist,genre -of default=nw=1 "$T/b.m4b")
check 'echo "$tags" | grep -q "title=The Quiet Harbour" && echo "$tags" | grep -q "artist=Ada Example" && echo "$tags" | grep -q "genre=Audiobook"' "m4b tags: $tags"
check 'ffprobe -v error -show_streams "$T/b.m4b" | grep -q "DISPOSITION:attached_pic=1"' "m4b has no cover"
rms=$(ffmpeg -v error -i "$T/b.m4b" -map 0:a -f wav - | sox -t wav - -n stat 2>&1 | awk '/RMS +amplitude/ {print $3}')
check 'awk -v r="$rms" "BEGIN { exit !(r > 0.01) }"' "m4b audio is silent ($rms)"
check 'grep -q -- "-->" "$T/b.srt" && grep -q "The ship came in at dawn." "$T/b.srt"' "srt: $(head -12 "$T/b.srt")"
last=$(grep -- "-->" "$T/b.srt" | tail -1 | sed 's/.*--> //; s/,/./' | awk -F: '{print $1*3600+$2*60+$3}')
check 'near "$last" "$(dur "$T/b.m4b")" 1.0' "last cue ends at $last, audio at $(dur "$T/b.m4b")"

# mp3 with ID3 chapters
"$BIN" book -q "$T/b3.epub" -o "$T/b.mp3" 2>"$T/err"
check '[ "$(ffprobe -v error -show_chapters -of csv=p=0 "$T/b.mp3" | wc -l)" = 3 ]' "mp3 chapters: $(cat "$T/err")"

# outputs that are not regular files are never replaced: a symlink keeps pointing at the book
# it names, a FIFO gets the book's bytes (the chapters come from the job folder made above)
ln -s "$T/real.m4b" "$T/link.m4b"
"$BIN" book -q "$T/b3.epub" -o "$T/link.m4b" --job-dir "$T/b.m4b.chorus-job" 2>"$T/err"
check '[ -L "$T/link.m4b" ] && [ "$(ffprobe -v error -show_chapters -of csv=p=0 "$T/real.m4b" | wc -l)" = 3 ]' \
      "symlinked output: $(ls -l "$T/link.m4b") $(cat "$T/err")"
mkfifo "$T/fifo.m4b"
timeout 120 cat "$T/fifo.m4b" > "$T/fromfifo.m4b" & # a failed run must not hang the test
catpid=$!
"$BIN" book -q "$T/b3.epub" -o "$T/fifo.m4b" --job-dir "$T/b.m4b.chorus-job" 2>"$T/err"
st=$?
wait $catpid
check '[ $st = 0 ] && [ -p "$T/fifo.m4b" ] && [ "$(ffprobe -v error -show_chapters -of csv=p=0 "$T/fromfifo.m4b" | wc -l)" = 3 ]' \
      "FIFO output: $(ls -l "$T/fifo.m4b") $(cat "$T/err")"
check '! ls "$T" | grep -q "\.tmp$"' "temp files left beside the outputs: $(ls "$T")"

# ---------------------------------------------------------------- selection, split, redo
"$BIN" book -q "$T/hand.epub" --chapters 2-3 --split -F flac --subtitles vtt -o "$T/split" 2>"$T/err"
check '[ -f "$T/split/002 - Second Wind.flac" ] && [ -f "$T/split/003 - Third Time.flac" ] && [ ! -e "$T/split/001 - First Light.flac" ]' \
      "split files: $(ls "$T/split") $(cat "$T/err")"
check 'head -1 "$T/split/003 - Third Time.vtt" | grep -q WEBVTT' "split vtt"
check '[ "$(soxi -r "$T/split/002 - Second Wind.flac")" = 24000 ]' "split flac rate"
expect_err 1 "chapters '9'.*1 to 3" -- "$BIN" book -q "$T/hand.epub" --chapters 9 -o "$T/x.m4b"
expect_err 1 "m4b.*mp3.*--split" -- "$BIN" book -q "$T/hand.epub" -o "$T/x.wav"
before=$(stat -c %y "$T/b.m4b.chorus-job/ch0001.aac")
sleep 1.1
"$BIN" book "$T/b3.epub" -o "$T/b.m4b" --redo 2 2>"$T/err"
check 'grep -q "chapter 1 of 3: The Arrival (done earlier)" "$T/err" && ! grep -q "chapter 2 of 3: The Market (done earlier)" "$T/err"' "redo/skip: $(cat "$T/err")"
check '[ "$before" = "$(stat -c %y "$T/b.m4b.chorus-job/ch0001.aac")" ]' "a done chapter was spoken again"
expect_err 1 "another book or of other voice settings" -- "$BIN" book -q "$T/hand.epub" -o "$T/b.m4b"

# ---------------------------------------------------------------- resume after kill -9
python3 - "$T/long.md" <<'EOF'
import sys
s = "# Long Book\n\n"
words = "the quiet river ran past seven old houses and a mill where nobody worked any more".split()
for c in range(1, 4):
    s += f"## Part {c}\n\n"
    for p in range(10):
        s += " ".join(words[(p + k) % len(words)] for k in range(30)).capitalize() + ".\n\n"
open(sys.argv[1], "w").write(s)
EOF
"$BIN" book -q "$T/long.md" -o "$T/clean.m4b" --job-dir "$T/cleanjob" 2>"$T/err"
check '[ $? = 0 ]' "long book: $(cat "$T/err")"
"$BIN" book -q "$T/long.md" -o "$T/long.m4b" 2>/dev/null &
pid=$!
for _ in $(seq 1 600); do
    grep -q '"1"' "$T/long.m4b.chorus-job/manifest.json" 2>/dev/null && break
    sleep 0.05
done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
check '[ ! -e "$T/long.m4b" ]' "a killed run left an output file"
"$BIN" book "$T/long.md" -o "$T/long.m4b" 2>"$T/err"
check '[ $? = 0 ] && grep -q "(done earlier)" "$T/err"' "resume did not skip the done chapter: $(cat "$T/err")"
check '[ "$(ffprobe -v error -show_chapters -of csv=p=0 "$T/long.m4b" | wc -l)" = 3 ]' "resumed chapter count"
check 'near "$(dur "$T/long.m4b")" "$(dur "$T/clean.m4b")" 0.05' "resumed $(dur "$T/long.m4b") s vs clean $(dur "$T/clean.m4b") s: audio lost or doubled"
check '! ls "$T/long.m4b.chorus-job" | grep -q "\.tmp$"' "temp files left in the job folder"

# ---------------------------------------------------------------- malformed input
printf 'PK\003\004 this is not really a zip' > "$T/broken.epub"
expect_err 1 "not a readable EPUB" -- "$BIN" book --list "$T/broken.epub"
python3 - "$T" <<'EOF'
import sys, zipfile
d = sys.argv[1]
def mk(name, files):
    z = zipfile.ZipFile(f"{d}/{name}", "w", zipfile.ZIP_DEFLATED)
    for k, v in files.items(): z.writestr(k, v)
    z.close()
cont = '<container xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles><rootfile full-path="x.opf"/></rootfiles></container>'
mk("noopf.epub", {"META-INF/container.xml": cont})
mk("nocontainer.epub", {"x.opf": "<package/>"})
mk("nowhere.epub", {"META-INF/container.xml": cont, "x.opf": '<package><manifest><item id="a" href="a.xhtml"/></manifest><spine><itemref idref="zz"/></spine></package>'})
mk("bomb.epub", {"META-INF/container.xml": cont, "x.opf": '<package><manifest><item id="a" href="a.xhtml"/></manifest><spine><itemref idref="a"/></spine></package>', "a.xhtml": b"\0" * (100 << 20)})
EOF
expect_err 1 "names x.opf, which the EPUB lacks" -- "$BIN" book --list "$T/noopf.epub"
expect_err 1 "no META-INF/container.xml" -- "$BIN" book --list "$T/nocontainer.epub"
expect_err 1 "spine points at no document" -- "$BIN" book --list "$T/nowhere.epub"
/usr/bin/time -f %M -o "$T/rss" "$BIN" book --list "$T/bomb.epub" >"$T/out" 2>"$T/err"
rc=$?
check '[ $rc = 1 ] && grep -q "over the 64 MiB limit" "$T/err"' "zip bomb: $(cat "$T/err")"
check '[ "$(tail -1 "$T/rss")" -lt 200000 ]' "zip bomb took $(tail -1 "$T/rss") KiB"
expect_err 1 "cannot open .*nosuch" -- "$BIN" book --list "$T/nosuch.epub"
expect_err 2 "no output" -- "$BIN" book "$T/b3.epub"

# ---------------------------------------------------------------- chorus say --subtitles
"$BIN" say -q -o "$T/s.wav" --subtitles "$T/s.srt" "Hello there. It's a fine day, isn't it? Yes." 2>"$T/err"
check 'grep -q "^It.s a fine day, isn.t it?$" "$T/s.srt" && [ "$(grep -c -- "-->" "$T/s.srt")" = 3 ]' "say --subtitles: $(cat "$T/s.srt" "$T/err")"
last=$(grep -- "-->" "$T/s.srt" | tail -1 | sed 's/.*--> //; s/,/./' | awk -F: '{print $1*3600+$2*60+$3}')
check 'near "$last" "$(soxi -D "$T/s.wav")" 0.5' "last cue ends at $last, audio $(soxi -D "$T/s.wav")"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
