#!/bin/bash
# remote_cli.sh — `chorus say` with the remote backends against the loopback fakes: real audio
# checked with sox/ffprobe, word timings, errors and exit codes, and a recognizable fake key
# that must never appear in stderr (with debug logging on) or in any URL the fakes received.
set -u
BIN=${CHORUS_BIN:?}
FAKES=${CHORUS_FAKES:?}
T=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT
: > "$T/empty.toml"
export CHORUS_CONFIG=$T/empty.toml
export CHORUS_LOG=debug
KEY="sk-FAKEKEY-9f8e7d6c5b4a39281706"
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
check() { if eval "$1"; then ok; else bad "$2"; fi; }
near() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }'; }

# start_fake NAME PROVIDER [ARGS...]: sets PORT_NAME
start_fake() {
    local name=$1 provider=$2; shift 2
    python3 "$FAKES/fake_tts.py" --provider "$provider" --log "$T/$name.log" "$@" > "$T/$name.port" 2>/dev/null &
    PIDS+=($!)
    # a loaded machine starts python slowly: wait up to 60 s for the port line
    for _ in $(seq 600); do [ -s "$T/$name.port" ] && break; sleep 0.1; done
    eval "PORT_$name=$(awk '{print $2}' "$T/$name.port")"
}

no_key_in() { ! grep -q -- "$KEY" "$1" && ! grep -q -- "${KEY:0:12}" "$1"; }

# --- openai: speak to wav and mp3 files, decoded by independent tools
start_fake oa openai --key "$KEY"
export OPENAI_BASE_URL=http://127.0.0.1:$PORT_oa/v1 OPENAI_API_KEY=$KEY
TEXT="The remote backend speaks through a fake OpenAI server."
"$BIN" say -q --no-cache -b openai -v shimmer -o "$T/o.wav" "$TEXT" 2>"$T/err1"
rc=$?
check '[ $rc = 0 ]' "openai wav failed: $(cat "$T/err1")"
want=$(awk -v n=${#TEXT} 'BEGIN { print n / 15 }')
check 'near "$(soxi -D "$T/o.wav")" "$want" 0.1' "openai wav duration $(soxi -D "$T/o.wav"), want $want"
check '[ "$(soxi -r "$T/o.wav")" = 24000 ]' "openai wav rate $(soxi -r "$T/o.wav")"
"$BIN" say -q --no-cache -b openai -o "$T/o.mp3" "$TEXT" 2>"$T/err2"
rc=$?
check '[ $rc = 0 ]' "openai mp3 failed: $(cat "$T/err2")"
d=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$T/o.mp3")
check 'near "$d" "$want" 0.2' "openai mp3 duration $d, want $want"
# streamed to stdout
"$BIN" say -q --no-cache -b openai -F wav -o - "$TEXT" > "$T/stdout.wav" 2>"$T/err3"
rc=$?
check '[ $rc = 0 ] && [ -s "$T/stdout.wav" ]' "openai to stdout failed: $(cat "$T/err3")"
d=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$T/stdout.wav" 2>/dev/null || echo 0)
check 'near "$d" "$want" 0.1' "openai stdout duration $d"
check 'no_key_in "$T/err1" && no_key_in "$T/err2" && no_key_in "$T/err3"' "key in stderr"
check '! grep -q "raw_path\": \"[^\"]*$KEY" "$T/oa.log"' "key in a URL"
check 'grep -q "\"authorization\": \"Bearer $KEY\"" "$T/oa.log"' "key header not sent"

# --- openai errors: exit status 1, message on stderr with the chorus: prefix, no file left
kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null
start_fake oq openai --key "$KEY" --plan quota
export OPENAI_BASE_URL=http://127.0.0.1:$PORT_oq/v1
"$BIN" say -q --no-cache -b openai -o "$T/q.wav" "No credits left." 2>"$T/err4"
rc=$?
check '[ $rc = 1 ]' "quota exit status"
check 'grep -q "^chorus: .*quota exhausted" "$T/err4"' "quota message: $(cat "$T/err4")"
check '[ ! -e "$T/q.wav" ] && ! ls "$T" | grep -q "q.wav."' "partial file left after an error"
export OPENAI_API_KEY=sk-wrong-$KEY
"$BIN" say -q --no-cache -b openai -o "$T/q.wav" "Wrong key." 2>"$T/err5"
rc=$?
check '[ $rc = 1 ]' "auth exit status"
check 'no_key_in "$T/err5"' "wrong key shown in stderr: $(cat "$T/err5")"
unset OPENAI_API_KEY
export OPENAI_BASE_URL=https://api.openai.com/v1
"$BIN" say -q --no-cache -b openai -o "$T/q.wav" "No key." 2>"$T/err6"
rc=$?
check '[ $rc != 0 ] && grep -q "^chorus: .*OPENAI_API_KEY" "$T/err6"' "missing key message: $(cat "$T/err6")"
"$BIN" backends 2>&1 | grep -A3 '^openai' | grep -q 'OPENAI_API_KEY'
rc=$?
check '[ $rc = 0 ]' "chorus backends does not say why openai is unavailable"

# --- elevenlabs: word timings written by --timestamps
start_fake el elevenlabs --key "$KEY"
export ELEVENLABS_BASE_URL=http://127.0.0.1:$PORT_el ELEVENLABS_API_KEY=$KEY
TEXT2="Word timings come from character alignment."
"$BIN" say -q --no-cache -b elevenlabs -v Sarah --timestamps "$T/ts.json" -o "$T/e.wav" "$TEXT2" 2>"$T/err7"
rc=$?
check '[ $rc = 0 ]' "elevenlabs failed: $(cat "$T/err7")"
check 'near "$(soxi -D "$T/e.wav")" "$(awk -v n=${#TEXT2} "BEGIN { print n / 15 }")" 0.1' "elevenlabs duration"
python3 - "$T/ts.json" "$TEXT2" <<'PY'
import json, sys
words = json.load(open(sys.argv[1]))
text = sys.argv[2]
assert [w["word"] for w in words] == ["Word", "timings", "come", "from", "character", "alignment"], words
prev = -1
for w in words:
    assert w["start"] >= prev and w["end"] > w["start"], w
    prev = w["start"]
PY
rc=$?
check '[ $rc = 0 ]' "elevenlabs timestamps wrong: $(head -c 400 "$T/ts.json")"
check 'no_key_in "$T/err7"' "elevenlabs key in stderr"

# --- alltalk through the pattern name
start_fake at alltalk
export ALLTALK_TTS_URL=http://127.0.0.1:$PORT_at
"$BIN" say -q --no-cache -b alltalk_story -v female_02 -o "$T/a.flac" "AllTalk speaks a flac file." 2>"$T/err8"
rc=$?
check '[ $rc = 0 ]' "alltalk failed: $(cat "$T/err8")"
d=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$T/a.flac")
want=$(awk 'BEGIN { print 27 / 15 }')
check 'near "$d" "$want" 0.1' "alltalk flac duration $d, want $want"
"$BIN" voices -b alltalk 2>&1 | grep -q female_01.wav
rc=$?
check '[ $rc = 0 ]' "alltalk voices"

# --- the openai backend drives chorus's own OpenAI-compatible server (espeak behind it)
"$BIN" serve -q -p 0 --port-file "$T/serve.port" -k "$KEY" -b espeak 2>"$T/serve.err" &
PIDS+=($!)
for _ in $(seq 100); do [ -s "$T/serve.port" ] && break; sleep 0.1; done
export OPENAI_BASE_URL=http://127.0.0.1:$(cat "$T/serve.port")/v1 OPENAI_API_KEY=$KEY
"$BIN" say -q --no-cache -b openai -o "$T/self.wav" "chorus speaks to chorus over the OpenAI protocol." 2>"$T/err9"
rc=$?
check '[ $rc = 0 ]' "openai -> chorus serve failed: $(cat "$T/err9") $(cat "$T/serve.err")"
d=$(soxi -D "$T/self.wav" 2>/dev/null || echo 0)
check 'awk -v d="$d" "BEGIN { exit !(d > 1.5 && d < 10) }"' "openai -> chorus serve duration $d"
rms=$(sox "$T/self.wav" -n stat 2>&1 | awk '/RMS +amplitude/ {print $3}')
check 'awk -v r="$rms" "BEGIN { exit !(r > 0.01) }"' "openai -> chorus serve audio is silent"
check 'no_key_in "$T/err9"' "key in stderr (self)"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
