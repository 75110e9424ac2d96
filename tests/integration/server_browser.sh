#!/usr/bin/env bash
# server_browser.sh — the web page at GET / in headless Chromium (Debian's package) driven by
# playwright-core: fills the pickers from the API, clicks Generate, checks that audio arrived and
# words were highlighted, and keeps a screenshot (the PNG is checked, then removed with $WORK,
# unless CHORUS_KEEP_SCREENSHOT names a path); then a cross-origin request from the page (CORS
# preflight, --cors '*') with voice and pause tags. Skips without chromium, node or npm.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/server/common.bash"
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROMIUM" ] || { echo "SKIP: chromium is not installed (apt-get install chromium)"; exit 0; }
for tool in node npm curl; do
    command -v $tool >/dev/null || { echo "SKIP: $tool is not installed"; exit 0; }
done
. "$HERE/server/npm.bash" # sets NODEDIR or skips
start_server --cors '*'
node "$NODEDIR/browser.mjs" "$BASE" "$WORK/page.png" "$CHROMIUM" || fail "the page in chromium"
check "screenshot is a PNG" sh -c "head -c 8 '$WORK/page.png' | od -An -c | grep -q 'P   N   G'"
[ -n "${CHORUS_KEEP_SCREENSHOT:-}" ] && cp "$WORK/page.png" "$CHORUS_KEEP_SCREENSHOT"
check "the page fetched its data through the API" grep -q 'GET /v1/audio/voices' "$SERVER_LOG"
check "the page streamed captioned speech" grep -q 'POST /v1/audio/speech/captioned 200' "$SERVER_LOG"
check "the browser sent a CORS preflight" grep -q 'OPTIONS /v1/audio/speech 204' "$SERVER_LOG"
stop_server
finish
