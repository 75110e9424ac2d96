#!/bin/bash
# cli_say.sh — the chorus tool end to end: outputs checked with sox (an independent decoder),
# every bad input checked for its message, exit status and that nothing is left behind.
set -u
BIN=${CHORUS_BIN:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
: > "$T/empty.toml"
export CHORUS_CONFIG=$T/empty.toml   # no user config leaks in
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
check() { if eval "$1"; then ok; else bad "$2"; fi; }

# expect_err STATUS PATTERN -- command...: exit status and a stderr message
expect_err() {
    local want=$1 pat=$2; shift 3
    "$@" >"$T/out" 2>"$T/err" </dev/null
    local got=$?
    if [ "$got" != "$want" ]; then bad "'$*' exited $got, want $want: $(cat "$T/err")"; return; fi
    if ! grep -qiE -- "$pat" "$T/err"; then bad "'$*' said '$(cat "$T/err")', want /$pat/"; return; fi
    if ! grep -q '^chorus: ' "$T/err"; then bad "'$*' message lacks the chorus: prefix"; return; fi
    ok
}

duration() { soxi -D "$1" 2>/dev/null || echo 0; }
gt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a > b) }'; }

# --- basic synthesis to a file
"$BIN" say -q -o "$T/a.wav" "Hello from the command line." 2>"$T/err"
check '[ $? = 0 ]' "say to file failed: $(cat "$T/err")"
check 'gt "$(duration "$T/a.wav")" 0.8' "a.wav too short: $(duration "$T/a.wav")"
check '[ "$(soxi -c "$T/a.wav")" = 1 ] && [ "$(soxi -b "$T/a.wav")" = 16 ]' "a.wav not mono 16-bit"
rms=$(sox "$T/a.wav" -n stat 2>&1 | awk '/RMS +amplitude/ {print $3}')
check 'gt "$rms" 0.01' "a.wav is silent (rms $rms)"
ls "$T" | grep -q tmp && bad "temp file left behind"

# --- longer text gives longer audio
"$BIN" say -q -o "$T/b.wav" "Hello from the command line. And then a much longer second sentence follows it, with more words." 
check 'gt "$(duration "$T/b.wav")" "$(echo "$(duration "$T/a.wav") * 2" | bc -l)"' "longer text not longer"

# --- text from a file and from standard input give the same audio as arguments
echo "Hello from the command line." > "$T/in.txt"
"$BIN" say -q -f "$T/in.txt" -o "$T/c.wav"
check 'cmp -s "$T/a.wav" "$T/c.wav"' "-f FILE differs from arguments"
"$BIN" say -q -o "$T/d.wav" < "$T/in.txt"
check 'cmp -s "$T/a.wav" "$T/d.wav"' "stdin differs from arguments"

# --- streaming to a pipe: the unknown-length header; sox still reads it all
"$BIN" say -q -o - "Streaming to a pipe works too." | cat > "$T/pipe.wav"
check '[ "$(od -An -tx1 -j4 -N4 "$T/pipe.wav" | tr -d " ")" = ffffffff ]' "piped WAV lacks the unknown-length RIFF size"
sox "$T/pipe.wav" "$T/pipe-fixed.wav" 2>/dev/null
check 'gt "$(duration "$T/pipe-fixed.wav")" 0.8' "piped WAV not decodable"
# redirected to a regular file: exact header, identical to -o
"$BIN" say -q "Hello from the command line." > "$T/redir.wav"
check 'cmp -s "$T/a.wav" "$T/redir.wav"' "stdout redirected to a file differs from -o"

# --- raw pcm, format from the extension, sample rate
"$BIN" say -q -F pcm -o "$T/p.raw" "Raw samples."
check '[ $(( $(stat -c %s "$T/p.raw") % 2 )) = 0 ] && [ $(stat -c %s "$T/p.raw") -gt 20000 ]' "pcm output size wrong"
"$BIN" say -q -o "$T/r.wav" -r 16000 "Resampled output."
check '[ "$(soxi -r "$T/r.wav")" = 16000 ]' "-r 16000 not honoured: $(soxi -r "$T/r.wav")"

# --- timestamps
"$BIN" say -q -o "$T/t.wav" --timestamps "$T/t.json" "Alpha beta gamma. Delta epsilon."
check 'python3 - "$T/t.json" "$(duration "$T/t.wav")" <<PY
import json, sys
w = json.load(open(sys.argv[1])); total = float(sys.argv[2])
assert [x["word"] for x in w] == ["Alpha", "beta", "gamma", "Delta", "epsilon"], w
assert all(0 <= x["start"] <= x["end"] <= total + 1e-3 for x in w), w
assert all(a["start"] < b["start"] for a, b in zip(w, w[1:])), w
PY' "timestamps JSON wrong"

# --- SSML, speed, options
"$BIN" say -q --ssml -o "$T/s.wav" '<speak>One<break time="1500ms"/>two</speak>'
check 'gt "$(duration "$T/s.wav")" 1.6' "SSML break ignored"
"$BIN" say -q -s 2 -o "$T/fast.wav" "Hello from the command line."
check 'gt "$(duration "$T/a.wav")" "$(echo "$(duration "$T/fast.wav") * 1.5" | bc -l)"' "speed 2 not faster"
"$BIN" say -q --opt pitch=90 -o "$T/hi.wav" "Hello from the command line."
check '! cmp -s "$T/a.wav" "$T/hi.wav"' "--opt pitch had no effect"

# --- playback: the null device, and libao's wav file driver as a stand-in sound card
"$BIN" say -q --play --device null "Nobody hears this." 2>"$T/err"
check '[ $? = 0 ]' "--play on the null device failed: $(cat "$T/err")"
"$BIN" say -q --play --device "wav:$T/played.wav" -o "$T/saved.wav" "Played and saved at once." 2>"$T/err"
check '[ $? = 0 ] && [ "$(soxi -D "$T/played.wav")" = "$(soxi -D "$T/saved.wav")" ]' "played audio differs from saved: $(cat "$T/err")"
expect_err 1 "unknown audio driver.*null" -- "$BIN" say -q --play --device nosuchdriver hi

# --- cost estimates: nothing is sent, figures from the pricing table
out=$("$BIN" say --estimate -b openai -m tts-1 "$(python3 -c "print('x' * 1000, end='')")")
check '[[ "$out" == *"1000 characters"* && "$out" == *"\$0.0150"* ]]' "openai tts-1 estimate: $out"
out=$("$BIN" say --estimate "free as in espeak")
check '[[ "$out" == *"provider local"* && "$out" == *"\$0.0000"* ]]' "local estimate: $out"

# --- listings
"$BIN" voices --json > "$T/v.json"
check 'python3 -c "import json,sys; v=json.load(open(sys.argv[1])); assert len(v) > 50 and any(x[\"id\"]==\"en-us\" for x in v)" "$T/v.json"' "voices --json"
"$BIN" backends --json > "$T/b.json"
check 'python3 -c "import json,sys; b={x[\"name\"]:x for x in json.load(open(sys.argv[1]))}; assert b[\"espeak\"][\"available\"]" "$T/b.json"' "backends --json"
check '"$BIN" --version | grep -q "^chorus [0-9]"' "--version"
check '"$BIN" --help | grep -q "say"' "--help"
check '"$BIN" say --help | grep -q -- "--timestamps"' "say --help"

# --- bad input: message, status, nothing left behind
expect_err 1 "empty" -- "$BIN" say -q -o "$T/x.wav" ""
expect_err 1 "whitespace" -- "$BIN" say -q -o "$T/x.wav" "   "
printf 'caf\xe9\n' > "$T/latin1.txt"
expect_err 1 "UTF-8" -- "$BIN" say -q -f "$T/latin1.txt" -o "$T/x.wav"
expect_err 1 "unknown backend 'nope'.*espeak" -- "$BIN" say -q -b nope -o "$T/x.wav" hi
expect_err 1 "unknown voice 'en-uz'.*did you mean" -- "$BIN" say -q -v en-uz -o "$T/x.wav" hi
expect_err 1 "cannot read $T/missing.txt" -- "$BIN" say -q -f "$T/missing.txt" -o "$T/x.wav"
expect_err 1 "cannot write to $T/no/dir/x.wav" -- "$BIN" say -q -o "$T/no/dir/x.wav" hi
expect_err 2 "unknown format" -- "$BIN" say -q -F ogv -o "$T/x.wav" hi
expect_err 2 "speed" -- "$BIN" say -q -s 0 -o "$T/x.wav" hi
expect_err 2 "KEY=VALUE" -- "$BIN" say -q --opt nokey -o "$T/x.wav" hi
expect_err 1 "no option 'bogus'" -- "$BIN" say -q --opt bogus=1 -o "$T/x.wav" hi
expect_err 2 "unknown command" -- "$BIN" frobnicate
printf '[chorus]\nmax_concurrent = 2\ndefault_backend = espeak\n' > "$T/bad.toml"
expect_err 1 "bad.toml:3:" -- env CHORUS_CONFIG="$T/bad.toml" "$BIN" say -q -o "$T/x.wav" hi
expect_err 1 "cannot read config" -- env CHORUS_CONFIG="$T/nonexistent.toml" "$BIN" say -q -o "$T/x.wav" hi
check '[ ! -e "$T/x.wav" ] && ! ls "$T" | grep -q "x.wav"' "a failed run left a file"

# --- a config file chooses the defaults
printf '[chorus]\ndefault_backend = "espeak"\n[espeak]\nvoice = "de"\n' > "$T/good.toml"
CHORUS_CONFIG="$T/good.toml" "$BIN" say -q -o "$T/de.wav" "Guten Tag" 
check '! cmp -s "$T/de.wav" "$T/a.wav" && gt "$(duration "$T/de.wav")" 0.3' "config default voice"

# --- interrupted: no file left
python3 -c "print('This goes on for a very long time. ' * 40000)" > "$T/long.txt"
"$BIN" say -q -f "$T/long.txt" -o "$T/long.wav" 2>"$T/err" &
pid=$!
# interrupt once it is writing (its temp file exists), not before its handler is in place: a
# background job of a script starts with SIGINT ignored
for _ in $(seq 1 200); do ls "$T"/long.wav.*.tmp >/dev/null 2>&1 && break; sleep 0.05; done
kill -INT $pid
wait $pid
st=$?
check '[ $st = 130 ]' "interrupted run exited $st"
check '[ -z "$(ls "$T" | grep long.wav)" ]' "interrupted run left $(ls "$T" | grep long.wav)"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
