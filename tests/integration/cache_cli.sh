#!/bin/bash
# cache_cli.sh — the audio cache through the chorus tool: hits give the same bytes (checked
# against sox's reading of the first run), --no-cache, other formats served from the same
# entries, two processes at once, a damaged entry, `chorus cache stats|clear|path` and their
# errors. Everything lives in a temporary HOME and XDG_CACHE_HOME: the user's cache is never used.
set -u
BIN=${CHORUS_BIN:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export HOME=$T/home XDG_CACHE_HOME=$T/xdg CHORUS_CACHE=1
unset CHORUS_CACHE_DIR
mkdir -p "$HOME"
: > "$T/empty.toml"
export CHORUS_CONFIG=$T/empty.toml
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
check() { if eval "$1"; then ok; else bad "$2"; fi; }
stat_of() { "$BIN" cache stats --json | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
duration() { soxi -D "$1" 2>/dev/null || echo 0; }
gt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a > b) }'; }
CDIR=$XDG_CACHE_HOME/chorus

# --- where it lives
check '[ "$("$BIN" cache path)" = "$CDIR" ]' "cache path is $("$BIN" cache path), want $CDIR"
check '[ "$(CHORUS_CACHE_DIR=$T/elsewhere "$BIN" cache path)" = "$T/elsewhere" ]' "CHORUS_CACHE_DIR not honoured"
printf '[cache]\ndir = "~/mycache"\n' > "$T/dir.toml"
check '[ "$(CHORUS_CONFIG=$T/dir.toml "$BIN" cache path)" = "$HOME/mycache" ]' "[cache] dir with ~ not honoured"
check '[ "$(stat_of entries)" = 0 ]' "fresh cache not empty"

TEXT="The cache remembers this sentence.

And this second paragraph too."
# --- miss, then hit with identical bytes
"$BIN" say -q -o "$T/a.wav" "$TEXT" 2>"$T/err"
check '[ $? = 0 ]' "first say failed: $(cat "$T/err")"
check '[ "$(stat_of entries)" = 2 ]' "two paragraphs should make two entries, got $(stat_of entries)"
check '[ "$(stat_of hits)" = 0 ]' "hits before any repeat"
"$BIN" say -q -o "$T/b.wav" "$TEXT"
check 'cmp -s "$T/a.wav" "$T/b.wav"' "cached WAV differs from the first"
check '[ "$(stat_of hits)" = 2 ]' "repeat should hit twice, got $(stat_of hits)"
check 'gt "$(duration "$T/b.wav")" 2' "cached WAV too short: $(duration "$T/b.wav")"
rms=$(sox "$T/b.wav" -n stat 2>&1 | awk '/RMS +amplitude/ {print $3}')
check 'gt "$rms" 0.01' "cached WAV is silent (rms $rms)"

# --- another format and the same rate come from the same entries: PCM equals sox's samples
"$BIN" say -q -F pcm -r 22050 -o "$T/c.pcm" "$TEXT"
check '[ "$(stat_of hits)" = 4 ]' "PCM request did not hit"
sox "$T/a.wav" -t raw -e signed -b 16 -L "$T/a.raw"
check 'cmp -s "$T/a.raw" "$T/c.pcm"' "PCM from the cache differs from the WAV's samples"

# --- --no-cache neither reads nor writes
"$BIN" say -q --no-cache -o "$T/d.wav" "$TEXT"
check '[ "$(stat_of hits)" = 4 ] && [ "$(stat_of entries)" = 2 ]' "--no-cache touched the cache"
check 'gt "$(duration "$T/d.wav")" 2' "--no-cache output too short"
"$BIN" say -q --no-cache -o "$T/e.wav" "Never stored."
check '[ "$(stat_of entries)" = 2 ]' "--no-cache stored an entry"

# --- two processes generating the same new text at once
P="Two processes speak this at the same moment."
"$BIN" say -q -o "$T/p1.wav" "$P" & a=$!
"$BIN" say -q -o "$T/p2.wav" "$P" & b=$!
wait $a; ra=$?
wait $b; rb=$?
check '[ $ra = 0 ] && [ $rb = 0 ]' "concurrent says failed ($ra, $rb)"
check 'cmp -s "$T/p1.wav" "$T/p2.wav"' "concurrent outputs differ"
check '[ "$(stat_of entries)" = 3 ]' "concurrent writes of one key left $(stat_of entries) entries, want 3"
check '[ "$(find "$CDIR/entries" -name "*.ent" | wc -l)" = 3 ]' "entry files do not match the index"
check '[ "$(find "$CDIR/tmp" -type f | wc -l)" = 0 ]' "temporary files left behind"
"$BIN" say -q -o "$T/p3.wav" "$P"
check 'cmp -s "$T/p1.wav" "$T/p3.wav"' "hit after concurrent writes differs"

# --- a damaged entry is regenerated, never served
for f in $(find "$CDIR/entries" -name "*.ent"); do truncate -s 300 "$f"; done
"$BIN" say -q -o "$T/r.wav" "$P" 2>"$T/err"
check '[ $? = 0 ]' "say over damaged entries failed: $(cat "$T/err")"
check 'gt "$(duration "$T/r.wav")" 1' "regenerated audio too short: $(duration "$T/r.wav")"
check '[ "$(soxi -s "$T/r.wav")" = "$(soxi -s "$T/p1.wav")" ]' "regenerated audio length differs"
check '[ "$(stat -c %s "$(find "$CDIR/entries" -name "*.ent" -size +1k | head -1)")" -gt 300 ]' "entry not rewritten"

# --- clear
out=$("$BIN" cache clear)
check '[ $? = 0 ] && echo "$out" | grep -q "^removed 3 entries"' "cache clear said '$out'"
check '[ "$(stat_of entries)" = 0 ] && [ "$(find "$CDIR/entries" -name "*.ent" | wc -l)" = 0 ]' "clear left entries"
"$BIN" cache stats | grep -q "^entries    0" && ok || bad "cache stats text output"

# --- disabled: CHORUS_CACHE=0 and [cache] enabled = false write nothing
CHORUS_CACHE=0 XDG_CACHE_HOME=$T/off "$BIN" say -q -o "$T/f.wav" "Off."
check '[ ! -e "$T/off/chorus" ]' "CHORUS_CACHE=0 created a cache"
printf '[cache]\nenabled = false\n' > "$T/off.toml"
env -u CHORUS_CACHE CHORUS_CONFIG=$T/off.toml XDG_CACHE_HOME=$T/off "$BIN" say -q -o "$T/f.wav" "Off."
check '[ ! -e "$T/off/chorus" ]' "enabled = false created a cache"
check '[ "$(env -u CHORUS_CACHE CHORUS_CONFIG=$T/off.toml "$BIN" cache stats --json | python3 -c "import json,sys; print(json.load(sys.stdin)[\"enabled\"])")" = False ]' "stats does not say disabled"

# --- errors: clear, actionable, with the chorus: prefix
"$BIN" cache bogus >/dev/null 2>"$T/err"; rc=$?
check '[ $rc = 2 ] && grep -q "^chorus: unknown cache command .bogus." "$T/err"' "bad subcommand: $rc $(cat "$T/err")"
"$BIN" cache >/dev/null 2>"$T/err"; rc=$?
check '[ $rc = 2 ] && grep -q "usage: chorus cache" "$T/err"' "no subcommand: $rc"
printf '[cache]\nmax_bytes = "lots"\n' > "$T/bad.toml"
CHORUS_CONFIG=$T/bad.toml "$BIN" say -q -o "$T/g.wav" "hi" 2>"$T/err"; rc=$?
check '[ $rc = 1 ] && grep -q "^chorus: invalid \[cache\] max_bytes .lots." "$T/err"' "bad max_bytes: $rc $(cat "$T/err")"
check '[ ! -e "$T/g.wav" ]' "bad config left an output file"
: > "$T/blocker"
CHORUS_CACHE_DIR=$T/blocker/sub "$BIN" say -q -o "$T/h.wav" "Speech without a usable cache." 2>"$T/err"; rc=$?
check '[ $rc = 0 ] && gt "$(duration "$T/h.wav")" 0.5' "an unusable cache directory broke speech: $(cat "$T/err")"
out=$(CHORUS_CACHE_DIR=$T/blocker/sub "$BIN" cache clear 2>"$T/err"); rc=$?
check '[ $rc = 0 ] && echo "$out" | grep -q "^removed 0 entries"' "clear on a directory that cannot exist: $rc $out $(cat "$T/err")"
check '[ ! -e "$HOME/.cache" ]' "the cache wrote under HOME/.cache"

echo "cache_cli: $pass passed, $fail failed"
[ "$fail" = 0 ]
