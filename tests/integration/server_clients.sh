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

start_server --api-key replay-key --open-listing
KEYED=$BASE KEYED_PID=$SERVER_PID KEYED_LOG=$WORK/keyed.log
mv "$SERVER_LOG" "$KEYED_LOG"
SERVER_PID=
start_server --cors '*'
python3 "$HERE/server/clients.py" "$KEYED" replay-key "$BASE" "$WORK" || fail "client replay"
check "no download copy outlives the server" sh -c "ls -d ${TMPDIR:-/tmp}/chorus-downloads.* 2>/dev/null | wc -l > $WORK/dl.before"
stop_server
kill -TERM "$KEYED_PID"; wait "$KEYED_PID"
check "the key never reaches the log" sh -c "! grep -q replay-key $KEYED_LOG $SERVER_LOG"
check "silence answers are logged" grep -q 'nothing to speak in the input' "$KEYED_LOG"
finish
