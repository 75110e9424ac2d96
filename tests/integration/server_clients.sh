#!/usr/bin/env bash
# server_clients.sh — the client-replay suite: the exact request sequences of Open WebUI,
# SillyTavern, LibreChat, Home Assistant's openai_tts, Kokoro-FastAPI clients, tldw_chatbook and
# browser pages (server/clients.py, after ../shared/specs/clients.md), against a keyed server
# with --open-listing (Open WebUI in Docker) and an open one with --cors '*'. Audio is decoded by
# ffprobe/sox. Binds 127.0.0.1 on ephemeral ports only.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/server/common.bash"
for tool in curl ffprobe sox python3; do
    command -v $tool >/dev/null || { echo "SKIP: $tool is not installed"; exit 0; }
done

mkdir -p "$WORK/tmp"
export TMPDIR=$WORK/tmp # the servers' download folders go here
start_server --api-key replay-key --open-listing
KEYED=$BASE KEYED_PID=$SERVER_PID KEYED_LOG=$WORK/keyed.log
mv "$SERVER_LOG" "$KEYED_LOG"
trap 'kill -TERM "$KEYED_PID" 2>/dev/null; cleanup' EXIT
SERVER_PID=
start_server --cors '*'
python3 "$HERE/server/clients.py" "$KEYED" replay-key "$BASE" "$WORK" || fail "client replay"
check "download copies were kept while serving" sh -c "ls $WORK/tmp/chorus-downloads.*/speech-*.mp3 >/dev/null 2>&1"
stop_server; ST=$?
kill -TERM "$KEYED_PID"; wait "$KEYED_PID"; KST=$?
check "both servers exit 0 (clean under ASan too: $ST, $KST)" test "$ST$KST" = 00
check "the download folder is removed at stop" sh -c "! ls -d $WORK/tmp/chorus-downloads.* >/dev/null 2>&1"
check "the key never reaches the log" sh -c "! grep -q replay-key $KEYED_LOG $SERVER_LOG"
check "silence answers are logged" grep -q 'nothing to speak in the input' "$KEYED_LOG"

# one allowed origin, a key, short-lived download links
start_server --api-key k2 --cors https://app.example --download-ttl 4
W=$WORK
hdrs() { curl -s -o /dev/null -D - "$@" | tr -d '\r'; }
PRE=(-X OPTIONS -H 'Access-Control-Request-Method: POST' -H 'Access-Control-Request-Headers: authorization,content-type')
hdrs "${PRE[@]}" -H 'Origin: https://app.example' $BASE/v1/audio/speech > $W/ok.h
check "preflight from the allowed origin, no key: 204 with CORS" sh -c "grep -q '^HTTP/1.1 204' $W/ok.h && grep -qx 'Access-Control-Allow-Origin: https://app.example' $W/ok.h"
hdrs "${PRE[@]}" -H 'Origin: https://evil.example' $BASE/v1/audio/speech > $W/evil.h
check "preflight from another origin: no Allow-Origin" sh -c "grep -q '^HTTP/1.1 204' $W/evil.h && ! grep -qi '^Access-Control-Allow-Origin' $W/evil.h"
hdrs -H 'Origin: https://evil.example' -H 'Authorization: Bearer k2' $BASE/v1/models > $W/evil2.h
check "answers to another origin carry no Allow-Origin, and Vary: Origin" sh -c "! grep -qi '^Access-Control-Allow-Origin' $W/evil2.h && grep -qi '^Vary: Origin' $W/evil2.h"
check "listing stays keyed without --open-listing" test "$(curl -s -o /dev/null -w '%{http_code}' $BASE/v1/audio/models)" = 401
curl -s -D $W/dl.h -o $W/dl.wav -H 'Authorization: Bearer k2' -d '{"input":"expires soon","response_format":"wav","return_download_link":"true"}' $BASE/v1/audio/speech
DP=$(grep -i '^X-Download-Path:' $W/dl.h | cut -d' ' -f2 | tr -d '\r')
check "download link given ($DP)" test -n "$DP"
check "the link works at once" test "$(curl -s -o $W/dl2.wav -w '%{http_code}' -H 'Authorization: Bearer k2' $BASE$DP)" = 200
check "the copy has the exact WAV sizes the stream could not have" python3 -c "
import struct, sys; b = open('$W/dl2.wav', 'rb').read(); s = open('$W/dl.wav', 'rb').read()
sys.exit(0 if struct.unpack_from('<I', b, 4)[0] == len(b) - 8 and struct.unpack_from('<I', b, 40)[0] == len(b) - 44 and b[44:] == s[44:] and s[40:44] == b'\\xff' * 4 else 1)"
check "downloads need the key" test "$(curl -s -o /dev/null -w '%{http_code}' $BASE$DP)" = 401
sleep 4.5
check "the link expires" test "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer k2' $BASE$DP)" = 404
stop_server; ST=$?
check "the server exits 0 ($ST)" test $ST = 0
finish
