#!/usr/bin/env bash
# server_stream_input.sh — the text-stream WebSocket of `chorus serve`
# (GET /v1/text-to-speech/{voice}/stream-input, docs/server.md) spoken to by python3-websockets
# (server/stream_input.py): audio for a complete sentence arrives while the text is still open,
# the whole stream decodes (sox for PCM, ffmpeg for MP3), refusals before the upgrade (no
# upgrade, bad key, opus, unknown model, foreign Origin, no API key), bad messages and oversized
# ones closed with the RFC 6455 codes, an idle stream closed, a vanished client cancelled with
# its slot and held bytes freed, a stop closing open streams with 1001. Loopback only.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/server/common.bash"
for tool in curl sox ffmpeg /usr/bin/python3; do
    command -v $tool >/dev/null || { echo "SKIP: $tool is not installed"; exit 0; }
done
/usr/bin/python3 -c 'import websockets' 2>/dev/null ||
    { echo "SKIP: python3-websockets is not installed (scripts/debian-packages.txt)"; exit 0; }
export CHORUS_CACHE=0
PY="/usr/bin/python3 $HERE/server/stream_input.py"
gt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 > b + 0) }'; }
wait_metric() { # wait_metric NAME VALUE SECONDS
    local i
    for i in $(seq 1 $(($3 * 5))); do [ "$(metric "$1")" = "$2" ] && return 0; sleep 0.2; done
    return 1
}

start_server -j 1 --max-queue 0 --max-body 65536 --request-timeout 2000
code=$(curl -s -o "$WORK/plain.json" -w '%{http_code}' "$BASE/v1/text-to-speech/alloy/stream-input")
if [ "$code" = 501 ]; then echo "SKIP: built without WebSocket support"; exit 0; fi

check "audio before the text ends, then the rest" $PY streaming "$PORT" "$WORK"
secs=$(sox -t raw -r 16000 -e signed -b 16 -c 1 "$WORK/stream.pcm" -n stat 2>&1 | awk '/^Length/ { print $3 }')
rms=$(sox -t raw -r 16000 -e signed -b 16 -c 1 "$WORK/stream.pcm" -n stat 2>&1 | awk '/^RMS +amplitude/ { print $3 }')
check "the streamed PCM decodes to speech (${secs}s, RMS $rms)" gt "$secs" 3
check "  and is not silence" gt "$rms" 0.01

check "mp3 in pieces" $PY mp3 "$PORT" "$WORK"
ffmpeg -v error -i "$WORK/stream.mp3" -f wav "$WORK/stream_mp3.wav" 2>"$WORK/ffmpeg.err"
check "the concatenated MP3 decodes with ffmpeg" test -s "$WORK/stream_mp3.wav"
check "  at 44100 Hz, as output_format asked" test "$(soxi -r "$WORK/stream_mp3.wav" 2>/dev/null)" = 44100
check "  and lasts" gt "$(soxi -D "$WORK/stream_mp3.wav" 2>/dev/null)" 1

check "refusals before the upgrade" $PY refusals "$PORT" "$WORK"
ws_hdr=(-H 'Upgrade: websocket' -H 'Connection: Upgrade' -H 'Sec-WebSocket-Version: 13'
        -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' --max-time 5)
code=$(curl -s -o /dev/null -w '%{http_code}' "${ws_hdr[@]}" -H 'Origin: http://evil.example' \
       "$BASE/v1/text-to-speech/alloy/stream-input?model_id=espeak")
check "a foreign web page's Origin is refused (cross-site WebSocket hijacking): $code" test "$code" = 403
code=$(curl -s -o /dev/null -w '%{http_code}' "${ws_hdr[@]}" -H 'Host: rebind.example' \
       "$BASE/v1/text-to-speech/alloy/stream-input?model_id=espeak")
check "a rebinding Host is refused: $code" test "$code" = 403
check "bad messages close with 1007/1003/1009" $PY bad_messages "$PORT" "$WORK"
check "an idle stream is closed with 1008" $PY idle "$PORT" "$WORK"

$PY hangup "$PORT" "$WORK"
check "a vanished client's generation ends" wait_metric chorus_engine_generations_active 0 20
check "  and its held bytes are released" wait_metric chorus_held_bytes 0 20
check "  counted as cancelled" test "$(metric 'chorus_generations_total{outcome="cancelled"}')" -ge 1
code=$(curl -s -o "$WORK/after.pcm" -w '%{http_code}' -H 'Content-Type: application/json' \
       -d '{"model":"espeak","input":"The slot is free.","response_format":"pcm"}' "$BASE/v1/audio/speech")
check "  the one slot (-j 1, no queue) serves the next request: $code" test "$code" = 200

check "the server stops cleanly (sanitizers find no leak)" stop_server
start_server --grace 0 # open streams end at once
$PY stopping "$PORT" "$WORK" & cpid=$!
for _ in $(seq 1 200); do [ -e "$WORK/stream_open" ] && break; sleep 0.05; done
kill -TERM "$SERVER_PID"
wait "$SERVER_PID"; st=$?
SERVER_PID=
check "the server stops with a stream open (status $st)" test "$st" = 0
wait $cpid
check "  and the client got 1001" test $? = 0

start_server --api-key sekrit
check "a keyed server wants the key for the upgrade" $PY keyed "$PORT" "$WORK" sekrit
check "  and stops cleanly" stop_server
finish
