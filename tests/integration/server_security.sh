#!/usr/bin/env bash
# server_security.sh — hostile requests against `chorus serve` and `chorus say` (issue 13), run on
# the release build too: libespeak-ng is not instrumented, so only a live process shows its
# crashes (a 37-byte variant overflowed a 40-byte buffer in voices.c and aborted the server).
# Binds 127.0.0.1 on ephemeral ports only.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/server/common.bash"
for tool in curl sox python3; do
    command -v $tool >/dev/null || { echo "SKIP: $tool is not installed"; exit 0; }
done
export CHORUS_CACHE=0 # every request must reach the engine
W=$WORK
post() { # post JSON OUTFILE [curl args...]: prints the HTTP status
    local body=$1 out=$2; shift 2
    curl -s -o "$out" -w '%{http_code}' -H 'Content-Type: application/json' "$@" --data-binary "$body" "$BASE/v1/audio/speech"
}
err_field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['error'][sys.argv[2]])" "$1" "$2"; }
gt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 > b + 0) }'; }
alive() { test "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/health")" = 200; }
A37=$(printf 'a%.0s' $(seq 37))
H="python3 $HERE/server/hostile.py"
sentences() { python3 -c "import json,sys; print(json.dumps({'input': 'This sentence is repeated to make a long speech. ' * int(sys.argv[1]), 'response_format': 'pcm', 'stream': sys.argv[2] == 'stream'}))" "$1" "$2"; }
wait_zero() { # wait_zero NAME SECONDS
    local i
    for i in $(seq 1 $(($2 * 5))); do [ "$(metric "$1")" = 0 ] && return 0; sleep 0.2; done
    return 1
}
no_esc() { ! LC_ALL=C grep -q $'\x1b' "$1"; }
wait_metric() { # wait_metric NAME MIN SECONDS: until the sample is >= MIN
    local i
    for i in $(seq 1 $(($3 * 5))); do
        awk -v a="$(metric "$1")" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }' && return 0
        sleep 0.2
    done
    return 1
}

start_server

# ---------------------------------------------------------------- 1. espeak variant overflow
check "37-byte variant in the voice: 400" test "$(post "{\"input\":\"hi\",\"voice\":\"en-us+$A37\"}" $W/v1)" = 400
check "... names the voice" test "$(err_field $W/v1 param)" = voice
check "server survived the 37-byte variant" alive
check "37-byte options.variant: 400" test "$(post "{\"input\":\"hi\",\"voice\":\"en-us\",\"options\":{\"variant\":\"$A37\"}}" $W/v2)" = 400
check "... names the options" test "$(err_field $W/v2 param)" = options
check "... says what a variant may be" grep -q "variant" $W/v2
check "server survived options.variant" alive
check "a listed variant still speaks" test "$(post '{"input":"hello there","voice":"en-us","options":{"variant":"f3"},"response_format":"wav"}' $W/ok.wav)" = 200
check "... and decodes as speech" gt "$(sox $W/ok.wav -n stat 2>&1 | awk '/^Length/ {print $3}')" 0.3

# ---------------------------------------------------------------- 2. no file read on request
check "path traversal variant: 400" test "$(post '{"input":"hi","voice":"en-us","options":{"variant":"../../../../../../etc/passwd"}}' $W/t1)" = 400
check "path traversal voice: 400" test "$(post '{"input":"hi","voice":"../../../../../../etc/passwd"}' $W/t2)" = 400
check "path traversal after +: 400" test "$(post '{"input":"hi","voice":"en-us+../../../../../../etc/passwd"}' $W/t3)" = 400
check "no file content in the server log" sh -c "! grep -q 'root:\|Bad voice attribute' '$SERVER_LOG'"

# ---------------------------------------------------------------- 3. browsers, no key
# A cross-site form posts text/plain (no CORS preflight); a DNS-rebinding page reaches us under
# its own host name. The server's own page (fetch with application/json) must keep working.
code() { curl -s -o "$W/g" -w '%{http_code}' "$@"; }
check "text/plain POST (a form): 415" test "$(code -H 'Content-Type: text/plain' --data-binary '{"input":"hi"}' $BASE/v1/audio/speech)" = 415
check "... says to send application/json" grep -q "application/json" $W/g
check "form-urlencoded POST (curl -d): 415" test "$(code -d '{"input":"hi"}' $BASE/v1/audio/speech)" = 415
check "rebinding Host name: 403" test "$(code -H 'Host: attacker.example:'$PORT $BASE/v1/models)" = 403
check "... code host_not_allowed" test "$(err_field $W/g code)" = host_not_allowed
check "rebinding Host on a POST: 403" test "$(post '{"input":"hi"}' $W/g -H "Host: attacker.example:$PORT")" = 403
check "cross-site Origin: 403" test "$(post '{"input":"hi"}' $W/g -H 'Origin: https://attacker.example')" = 403
check "... code origin_not_allowed" test "$(err_field $W/g code)" = origin_not_allowed
check "Origin null (sandboxed page): 403" test "$(post '{"input":"hi"}' $W/g -H 'Origin: null')" = 403
check "own page's origin: 200" test "$(post '{"input":"hi","response_format":"wav"}' $W/g -H "Origin: http://127.0.0.1:$PORT")" = 200
check "localhost Host: 200" test "$(code -H "Host: localhost:$PORT" $BASE/v1/models)" = 200
stop_server
start_server --api-key k3y
check "with a key, any Host and Origin pass to auth" test "$(post '{"input":"hi","response_format":"wav"}' $W/g -H 'Authorization: Bearer k3y' -H 'Host: tts.example' -H 'Origin: https://app.example')" = 200
stop_server
start_server

# ---------------------------------------------------------------- the CLI, same inputs
CLI_OUT=$W/cli.wav
"$CHORUS_BIN" say -v "en-us+$A37" -o $CLI_OUT hi 2>$W/cli.err; st=$?
check "say -v with a 37-byte variant exits 1, not a crash ($st)" test $st = 1
check "... and says why" grep -q "variant" $W/cli.err
"$CHORUS_BIN" say -v en-us --opt "variant=../../../../../../etc/passwd" -o $CLI_OUT hi 2>$W/cli2.err; st=$?
check "say --opt variant=../..: refused ($st)" test $st != 0 -a $st -lt 128
check "... no file content on stderr" sh -c "! grep -q 'root:\|Bad voice attribute' $W/cli2.err"
# SSML <audio src> made libespeak-ng read the file (and run sox on it): the tone must not appear
sox -n -r 22050 -c 1 -b 16 $W/tone.wav synth 2 sine 1000 vol 0.8
"$CHORUS_BIN" say --ssml -o $W/ssml.wav "<speak>a <audio src=\"$W/tone.wav\"/> b</speak>" 2>$W/ssml.err
check "SSML with <audio src> still speaks" test -s $W/ssml.wav
LEN=$(sox $W/ssml.wav -n stat 2>&1 | awk '/^Length/ {print $3}')
check "... without the 2 s file in it ($LEN s)" gt 1.5 "$LEN"
"$CHORUS_BIN" say --ssml -o $W/ssml2.wav '<speak><voice name="en+../../../../../../etc/passwd">x</voice></speak>' 2>$W/ssml2.err; st=$?
check "SSML voice name with a path: refused ($st)" test $st != 0 -a $st -lt 128
check "... no file content on stderr" sh -c "! grep -q 'root:\|Bad voice attribute' $W/ssml2.err"

# ---------------------------------------------------------------- 8. -o and --timestamps targets
mkfifo $W/fifo
cat $W/fifo > $W/from_fifo &
CAT=$!
"$CHORUS_BIN" say -o $W/fifo --timestamps $W/ts.json "hello fifo" 2>$W/fifo.err
wait $CAT
check "say -o FIFO leaves the FIFO in place" test -p $W/fifo
check "... and the audio went through it" gt "$(sox -t wav $W/from_fifo -n stat 2>&1 | awk '/^Length/ {print $3}')" 0.2
echo old > $W/real.wav
ln -s $W/real.wav $W/link.wav
ln -s $W/real.json $W/link.json
"$CHORUS_BIN" say -o $W/link.wav --timestamps $W/link.json "hello link" 2>$W/link.err
check "say -o SYMLINK keeps the link" test -L $W/link.wav
check "... and writes its target" gt "$(sox $W/real.wav -n stat 2>&1 | awk '/^Length/ {print $3}')" 0.2
check "--timestamps SYMLINK keeps the link and writes its target" sh -c "test -L $W/link.json && grep -q '\"word\"' $W/real.json"
mkfifo $W/tsfifo
cat $W/tsfifo > $W/ts_from_fifo &
CAT=$!
"$CHORUS_BIN" say -o $W/x.wav --timestamps $W/tsfifo "hello words" 2>/dev/null
wait $CAT
check "--timestamps FIFO leaves the FIFO in place" test -p $W/tsfifo
check "... and the JSON went through it" grep -q '"word"' $W/ts_from_fifo
# --subtitles (written by the library's subtitle writer) follows the same rules
ln -s $W/real.srt $W/link.srt
"$CHORUS_BIN" say -o $W/s.wav --subtitles $W/link.srt "hello subtitles. second cue." 2>$W/subs.err
check "--subtitles SYMLINK keeps the link and writes its target" sh -c "test -L $W/link.srt && grep -q -- '-->' $W/real.srt"
mkfifo $W/srtfifo
cat $W/srtfifo > $W/srt_from_fifo &
CAT=$!
"$CHORUS_BIN" say -o $W/s.wav --subtitles $W/srtfifo "hello subtitles" 2>/dev/null
wait $CAT
check "--subtitles FIFO leaves the FIFO in place" test -p $W/srtfifo
check "... and the cues went through it" grep -q -- '-->' $W/srt_from_fifo
check "no temp file left beside the targets" sh -c "! ls $W | grep -q '\.tmp\$'"
"$CHORUS_BIN" say -o - "This sentence is long enough to need more than one pipe buffer of audio. It goes on and on." 2>$W/pipe.err | head -c 100 > /dev/null; st=${PIPESTATUS[0]}
check "say -o - | head: exit 0 ($st)" test "$st" = 0
check "... and nothing on stderr" test ! -s $W/pipe.err
printf 'hello\0world' > $W/nul.txt
"$CHORUS_BIN" say -f $W/nul.txt -o $W/nul.wav 2>$W/nul.err; st=$?
check "say with a NUL in the text fails ($st)" test $st = 1
check "... and says where" grep -q "NUL byte at offset 5" $W/nul.err

# ---------------------------------------------------------------- 7. URL credentials never echoed
# An upstream URL with userinfo (http://user:pass@host) appeared in /v1/backends reasons and in
# error messages. Port 9 on loopback (discard) is closed: the backends are unavailable, and say so.
stop_server
ALLTALK_TTS_URL=http://bob:s3cretpw@127.0.0.1:9 CHATTERBOX_URL=http://carol:s3cretpw@127.0.0.1:9 \
    OPENAI_BASE_URL=http://alice:s3cretpw@127.0.0.1:9/v1 OPENAI_API_KEY=sk-test start_server
curl -s -o $W/backends.json "$BASE/v1/backends"
check "/v1/backends explains why alltalk is unavailable" python3 - $W/backends.json <<'PY'
import json, sys
b = {x["name"]: x for x in json.load(open(sys.argv[1]))["data"]}
assert not b["alltalk"]["available"] and "127.0.0.1:9" in b["alltalk"]["reason"], b["alltalk"]
PY
check "... without the URL's password" sh -c "! grep -q s3cretpw $W/backends.json"
check "... nor its user name" sh -c "! grep -q 'bob' $W/backends.json"
MODELS="alltalk openai"
grep -q '"chatterbox"' $W/backends.json && MODELS="$MODELS chatterbox" # built with it
for m in $MODELS; do
    post "{\"input\":\"hi\",\"model\":\"$m\"}" $W/cred_$m >/dev/null
    check "$m error names the upstream host without its credentials" sh -c "grep -q '127.0.0.1' $W/cred_$m && ! grep -q s3cretpw $W/cred_$m"
done
check "... nor in the server log" sh -c "! grep -q s3cretpw '$SERVER_LOG'"

# ---------------------------------------------------------------- keys: file, env, --help
stop_server
echo "filek3y" > $W/key
start_server --api-key-file $W/key
check "--api-key-file: no key 401" test "$(post '{"input":"hi"}' $W/g)" = 401
check "--api-key-file: with the key 200" test "$(post '{"input":"hi","response_format":"wav"}' $W/g -H 'Authorization: Bearer filek3y')" = 200
"$CHORUS_BIN" serve --help > $W/help
check "--help prefers CHORUS_API_KEY and a key file over --api-key" grep -q 'ps: prefer \$CHORUS_API_KEY' $W/help
check "--help documents --stall-timeout" grep -q -- '--stall-timeout' $W/help

# ---------------------------------------------------------------- 9. --port-file ignores planted links
echo keep > $W/victim
ln -s $W/victim $W/pf.tmp
ln -s $W/victim $W/pf
"$CHORUS_BIN" serve --host 127.0.0.1 --port 0 --port-file $W/pf 2>/dev/null &
PF=$!
for _ in $(seq 1 200); do [ -f $W/pf ] && [ ! -L $W/pf ] && break; sleep 0.05; done
check "--port-file replaced the planted link with a file" test -f $W/pf -a ! -L $W/pf
check "... holding the port" grep -qE '^[0-9]+$' $W/pf
check "... and the link's target is untouched" test "$(cat $W/victim)" = keep
kill $PF; wait $PF 2>/dev/null
echo keep > $W/wvictim
ln -s $W/wvictim $W/wpf
"$CHORUS_BIN" serve --wyoming-only --wyoming tcp://127.0.0.1:0 --wyoming-port-file $W/wpf -q 2>/dev/null &
PF=$!
for _ in $(seq 1 200); do [ -f $W/wpf ] && [ ! -L $W/wpf ] && break; sleep 0.05; done
check "--wyoming-port-file replaced the planted link with a file" test -f $W/wpf -a ! -L $W/wpf
check "... and the link's target is untouched" test "$(cat $W/wvictim)" = keep
kill $PF; wait $PF 2>/dev/null

# ---------------------------------------------------------------- --insecure warns loudly
# (the one non-loopback bind of the suite: an ephemeral port, gone as soon as it is reported)
"$CHORUS_BIN" serve --host 0.0.0.0 --port 0 --insecure --port-file $W/ipf 2>$W/insecure.err &
PF=$!
for _ in $(seq 1 200); do [ -s $W/ipf ] && break; sleep 0.05; done
kill $PF; wait $PF 2>/dev/null
check "--insecure without a key prints a WARNING" grep -q "WARNING: --insecure" $W/insecure.err
check "... that says how to set a key" grep -q "CHORUS_API_KEY" $W/insecure.err
"$CHORUS_BIN" serve --port 0 --api-key on-the-command-line --port-file $W/kpf 2>$W/argkey.err &
PF=$!
for _ in $(seq 1 200); do [ -s $W/kpf ] && break; sleep 0.05; done
kill $PF; wait $PF 2>/dev/null
check "--api-key notes that ps shows it" grep -q "shows in ps" $W/argkey.err
check "... without printing the key" sh -c "! grep -q on-the-command-line $W/argkey.err"

finish
