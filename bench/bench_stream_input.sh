#!/bin/sh
# bench_stream_input.sh [CHORUS] — first audio when the text arrives at LLM speed (30 tokens/s,
# ~4 characters a token) with `chorus say --stream-input`, against waiting for the whole text and
# then running `chorus say`. Each run is a fresh process (model load included, as a user sees it).
# BACKENDS (default "espeak kokoro"). Kokoro uses $KOKORO_MODEL_PATH when set; otherwise a
# full-size checkpoint with RANDOM weights from tools/kokoro/make_random_checkpoint_np.py (same
# tensors and shapes as Kokoro-82M, so the same work per frame; durations 2-3 frames per token):
# the audio is noise, the timing is what is measured.
B=${1:-build/chorus}
HERE=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
: > "$TMP/empty.toml"
for BACKEND in ${BACKENDS:-espeak kokoro}; do
    if [ "$BACKEND" = kokoro ] && [ -z "${KOKORO_MODEL_PATH:-}" ]; then
        mkdir -p "$TMP/kokoro/voices"
        cp "$HERE/tests/data/kokoro/config-v1_0.json" "$TMP/kokoro/config.json"
        if ! /usr/bin/python3 "$HERE/tools/kokoro/make_random_checkpoint_np.py" "$TMP/kokoro/config.json" \
                "$TMP/kokoro/kokoro-v1_0.pth" --voice "$TMP/kokoro/voices/af_heart.pt" >/dev/null 2>&1; then
            echo "kokoro: skipped (no KOKORO_MODEL_PATH, and the random checkpoint needs python3-numpy)"
            continue
        fi
        echo "kokoro: random-weight checkpoint (Kokoro-82M's shapes; timing only, the audio is noise)"
        export KOKORO_MODEL_PATH="$TMP/kokoro"
        # build the packfile once, so both runs below load the same way
        CHORUS_CONFIG=$TMP/empty.toml CHORUS_CACHE=0 "$B" say -q -b kokoro -F pcm -o /dev/null "Warm up." 2>/dev/null
    fi
    CHORUS_CONFIG=$TMP/empty.toml CHORUS_CACHE=0 python3 - "$B" "$BACKEND" <<'PY'
import subprocess, sys, threading, time
binp, backend = sys.argv[1], sys.argv[2]
text = ("The weather today is mild, with a light breeze from the west. Later this afternoon "
        "clouds will gather over the hills. Expect rain after six, clearing by midnight.")
toks = [text[i:i + 4] for i in range(0, len(text), 4)]
def run(stream):
    args = [binp, "say", "-q", "-b", backend, "-F", "pcm"] + (["--stream-input"] if stream else [])
    t0 = time.time()
    if not stream:  # the whole answer first, at the same 30 tokens/s
        time.sleep(len(toks) / 30)
    t_text = time.time()  # the whole text (waiting) or the first token (streaming) is in
    p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    first = []
    def rd():
        while True:
            c = p.stdout.read1(65536)
            if not c: break
            if not first: first.append(time.time())
    th = threading.Thread(target=rd); th.start()
    end_first = None
    if stream:
        for i, t in enumerate(toks):
            p.stdin.write(t.encode()); p.stdin.flush()
            if end_first is None and ". " in "".join(toks[:i + 1]):
                end_first = time.time()  # the first sentence's end is now certain
            time.sleep(1 / 30)
    else:
        p.stdin.write(text.encode())
    p.stdin.close(); th.join(); p.wait()
    return first[0] - t0, (first[0] - end_first) if end_first else first[0] - t_text
def cold():  # process start, model load, a two-word forward pass
    t0 = time.time()
    p = subprocess.Popen([binp, "say", "-q", "-b", backend, "-F", "pcm", "Hello there."],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    p.stdout.read(1); t = time.time() - t0; p.stdout.read(); p.wait()
    return t
s_total, s_after = run(True)
w_total, w_after = run(False)
c = cold()
print(f"stream input ({backend}, 30 tokens/s, {len(text)} chars, {len(toks)} tokens): first audio "
      f"{s_total*1000:.0f} ms after the first token, {s_after*1000:.0f} ms after the first sentence was complete")
print(f"waiting for the whole text ({backend}): first audio {w_total*1000:.0f} ms after the first token, "
      f"{w_after*1000:.0f} ms after the text was complete ({w_total/s_total:.1f}x later)")
print(f"reference ({backend}): a cold `chorus say \"Hello there.\"` writes its first audio after {c*1000:.0f} ms")
PY
    # the same over the server's WebSocket (docs/server.md, stream-input)
    /usr/bin/python3 -c 'import websockets' 2>/dev/null || { echo "server: skipped (no python3-websockets)"; continue; }
    rm -f "$TMP/port"
    CHORUS_CONFIG=$TMP/empty.toml CHORUS_CACHE=0 "$B" serve -q --port 0 --port-file "$TMP/port" 2>/dev/null &
    spid=$!
    for _ in $(seq 1 100); do [ -s "$TMP/port" ] && break; sleep 0.1; done
    /usr/bin/python3 - "$(cat "$TMP/port")" "$BACKEND" <<'PY'
import asyncio, json, sys, time, websockets
port, backend = sys.argv[1], sys.argv[2]
text = ("The weather today is mild, with a light breeze from the west. Later this afternoon "
        "clouds will gather over the hills. Expect rain after six, clearing by midnight.")
toks = [text[i:i + 4] for i in range(0, len(text), 4)]
async def main():
    url = f"ws://127.0.0.1:{port}/v1/text-to-speech/x/stream-input?model_id={backend}&output_format=pcm"
    async with websockets.connect(url.replace("/x/", "/af_heart/" if backend == "kokoro" else "/alloy/")) as ws:
        first, end_first, last_sent = [], None, None
        async def reader():
            async for m in ws:
                if not first and json.loads(m).get("audio"): first.append(time.time())
        r = asyncio.create_task(reader())
        t0 = time.time()
        for i, t in enumerate(toks):
            await ws.send(json.dumps({"text": t}))
            if end_first is None and ". " in "".join(toks[:i + 1]): end_first = time.time()
            await asyncio.sleep(1 / 30)
        last_sent = time.time()
        await ws.send(json.dumps({"text": ""}))
        await r
    f = first[0]
    print(f"server WebSocket ({backend}): first audio {(f-t0)*1000:.0f} ms after the first token, "
          f"{(f-end_first)*1000:.0f} ms after the first sentence was complete, " + (f"{(last_sent-f)*1000:.0f} ms before the last text was sent" if f < last_sent
             else f"{(f-last_sent)*1000:.0f} ms after the last text was sent"))
asyncio.run(main())
PY
    kill $spid; wait $spid
done
