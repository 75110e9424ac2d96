#!/usr/bin/env bash
# server_openai.sh — an unmodified OpenAI client (the official `openai` npm package) against
# `chorus serve`: audio.speech.create for every format this build can produce, the body read as
# a stream, SSE, error classes; every file decoded with ffprobe/sox. Skips when node/npm are
# missing or the npm registry cannot be reached.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/server/common.bash"
for tool in node npm curl ffprobe sox python3; do
    command -v $tool >/dev/null || { echo "SKIP: $tool is not installed"; exit 0; }
done
. "$HERE/server/npm.bash" # sets NODEDIR or skips
start_server --api-key test-key
FORMATS=$(curl -s -H 'Authorization: Bearer test-key' "$BASE/v1/backends" |
          python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)["formats"]))')
echo "formats: $FORMATS"
node "$NODEDIR/client.mjs" "$BASE" test-key "$WORK" $FORMATS || fail "the OpenAI SDK client"

probe() { ffprobe -v error -show_entries stream=codec_type,channels -show_entries format=duration -of default=nw=1 "$@" 2>&1; }
for f in $FORMATS; do
    for kind in sdk stream; do
        file=$WORK/$kind.$f
        if [ "$f" = pcm ]; then
            d=$(sox -t raw -r 24000 -e signed -b 16 -c 1 "$file" -n stat 2>&1 | awk '/^Length/ {print $3}')
        else
            out=$(probe "$file")
            echo "$out" | grep -q 'codec_type=audio' || fail "$kind.$f does not decode: $out"
            d=$(echo "$out" | awk -F= '/^duration=/ {print $2}')
            # streamed WAV carries an unknown length: measure it by decoding
            [ "$d" = N/A ] && d=$(sox "$file" -n stat 2>&1 | awk '/^Length/ {print $3}')
        fi
        check "$kind.$f decodes to speech (${d}s)" python3 -c "import sys; sys.exit(0 if float('$d') > 2.0 else 1)"
    done
    if [ "$f" != pcm ]; then
        check "sdk.$f is mono" sh -c "probe() { ffprobe -v error -show_entries stream=channels -of csv=p=0 \"\$1\"; }; test \"\$(probe $WORK/sdk.$f)\" = 1"
    fi
done
d=$(sox "$WORK/sse.wav" -n stat 2>&1 | awk '/^Length/ {print $3}')
check "sse.wav decodes to speech (${d}s)" python3 -c "import sys; sys.exit(0 if float('${d:-0}') > 2.0 else 1)"
stop_server
check "the key never reaches the log" sh -c "! grep -q test-key $SERVER_LOG"
finish
