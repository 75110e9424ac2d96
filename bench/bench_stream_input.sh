#!/bin/sh
# bench_stream_input.sh CHORUS — first audio when the text arrives at LLM speed (30 tokens/s,
# ~4 characters a token) with `chorus say --stream-input`, against waiting for the whole text and
# then running `chorus say`. espeak; Kokoro needs its weights (set BACKEND=kokoro where present).
B=${1:-build/chorus}
BACKEND=${BACKEND:-espeak}
CHORUS_CONFIG=/dev/null CHORUS_CACHE=0 python3 - "$B" "$BACKEND" <<'EOF'
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
    return first[0] - t0, (first[0] - end_first) if end_first else None
s_total, s_after = run(True)
w_total, _ = run(False)
print(f"stream input ({backend}, 30 tokens/s, {len(text)} chars): first audio {s_total*1000:.0f} ms after the "
      f"first token, {s_after*1000:.0f} ms after the first sentence was complete")
print(f"waiting for the whole text: first audio {w_total*1000:.0f} ms after the first token "
      f"({w_total/s_total:.1f}x later)")
