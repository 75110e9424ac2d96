#!/bin/bash
# wyoming.sh — `chorus serve --wyoming` spoken to by a Wyoming client of our own, written from the
# protocol as OHF-Voice/wyoming (wyoming/event.py) frames it and as Home Assistant
# (homeassistant/components/wyoming/tts.py) calls it: describe within HA's 1 s, the non-streaming
# synthesize in the split-data form Python senders use, the streaming sequence with token-sized
# chunks and the duplicate synthesize HA sends inside a stream, ping, unknown events, malformed
# frames, a stalled and a vanishing peer.
set -u
BIN=${CHORUS_BIN:?}
T=$(mktemp -d)
: > "$T/empty.toml"
export CHORUS_CONFIG=$T/empty.toml
"$BIN" serve --wyoming-only --wyoming tcp://127.0.0.1:0 --wyoming-port-file "$T/port" -q \
    2>"$T/server.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 1 200); do [ -s "$T/port" ] && break; sleep 0.05; done
[ -s "$T/port" ] || { echo "FAIL: the server did not start: $(cat "$T/server.log")"; echo "0 passed, 1 failed"; exit 1; }
PORT=$(cat "$T/port")

python3 - "$PORT" "$pid" <<'EOF'
import json, socket, sys, time
port, pid = int(sys.argv[1]), int(sys.argv[2])
passed = failed = 0
def check(cond, msg):
    global passed, failed
    if cond: passed += 1
    else:
        failed += 1
        print("FAIL:", msg, file=sys.stderr)

class Peer:
    def __init__(self, timeout=20):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""
    def send_split(self, type_, data=None, payload=b""):
        # the form wyoming's Python writer produces: data in its own block after the header
        hdr = {"type": type_, "version": "1.7.2"}
        body = json.dumps(data).encode() if data else b""
        if body: hdr["data_length"] = len(body)
        if payload: hdr["payload_length"] = len(payload)
        self.s.sendall(json.dumps(hdr).encode() + b"\n" + body + payload)
    def send_inline(self, type_, data=None):
        hdr = {"type": type_}
        if data is not None: hdr["data"] = data
        self.s.sendall(json.dumps(hdr).encode() + b"\n")
    def _read(self, n):
        while len(self.buf) < n:
            c = self.s.recv(65536)
            if not c: raise EOFError
            self.buf += c
        out, self.buf = self.buf[:n], self.buf[n:]
        return out
    def read_event(self):
        while b"\n" not in self.buf:
            c = self.s.recv(65536)
            if not c: raise EOFError
            self.buf += c
        line, self.buf = self.buf.split(b"\n", 1)
        hdr = json.loads(line)
        data = dict(hdr.get("data") or {})
        if hdr.get("data_length"): data.update(json.loads(self._read(hdr["data_length"])))
        payload = self._read(hdr["payload_length"]) if hdr.get("payload_length") else b""
        return hdr["type"], data, payload
    def read_audio(self, until="audio-stop"):
        """Events until `until`; returns (types, pcm bytes, formats seen)."""
        types, pcm, fmts = [], b"", set()
        while True:
            t, d, p = self.read_event()
            types.append(t)
            if t == "audio-chunk":
                pcm += p
                fmts.add((d.get("rate"), d.get("width"), d.get("channels")))
            if t in (until, "error"): return types, pcm, fmts, d

# describe -> info, answered from memory within HA's 1 s timeout
p = Peer()
t0 = time.time()
p.send_split("describe")
t, info, _ = p.read_event()
dt = time.time() - t0
check(t == "info" and dt < 1.0, f"describe answered {t} in {dt:.2f}s")
prog = info.get("tts", [{}])[0]
check(prog.get("installed") is True and prog.get("supports_synthesize_streaming") is True,
      f"tts program: {str(prog)[:200]}")
voices = prog.get("voices", [])
check(len(voices) > 20 and all(v.get("name") and isinstance(v.get("languages"), list)
                               and "attribution" in v and v.get("installed") for v in voices),
      f"{len(voices)} voices, first {voices[:1]}")
check(any("en" in (v["languages"] or [""])[0] for v in voices), "no English voice listed")

# ping -> pong; unknown events are ignored
p.send_inline("ping", {"text": "x"})
check(p.read_event()[0] == "pong", "no pong")
p.send_split("run-satellite", {"x": 1})
p.send_inline("ping")
check(p.read_event()[0] == "pong", "an unknown event broke the connection")

# non-streaming, as HA sends it
p.send_split("synthesize", {"text": "Hello from Home Assistant. The kitchen light is on.",
                            "voice": {"name": "en-us", "language": "en_US"}})
types, pcm, fmts, _ = p.read_audio()
check(types[0] == "audio-start" and types[-1] == "audio-stop" and "audio-chunk" in types,
      f"synthesize events: {types[:3]}...{types[-2:]}")
check(fmts == {(22050, 2, 1)}, f"audio formats {fmts}")
secs = len(pcm) / 2 / 22050
check(1.5 < secs < 10, f"{secs:.2f} s of audio")
import array
a = array.array("h"); a.frombytes(pcm)
rms = (sum(x * x for x in a) / max(len(a), 1)) ** 0.5
check(rms > 300, f"audio is silent (rms {rms:.0f})")
whole = len(pcm)

# streaming: synthesize-start, token-sized chunks, HA's duplicate synthesize, stop
text = "Hello from Home Assistant. The kitchen light is on."
p.send_split("synthesize-start", {"voice": {"name": "en-us"}})
first_audio = None
t0 = time.time()
for i in range(0, len(text), 3):
    p.send_split("synthesize-chunk", {"text": text[i:i + 3]})
p.send_split("synthesize", {"text": text, "voice": {"name": "en-us"}})  # ignored inside a stream
p.send_split("synthesize-stop")
types, pcm2, fmts2, _ = p.read_audio(until="synthesize-stopped")
check(types[-1] == "synthesize-stopped" and types.count("audio-start") >= 1 and
      types.count("audio-start") == types.count("audio-stop"), f"stream events: {types[:2]}..{types[-3:]}")
check(fmts2 == {(22050, 2, 1)}, f"stream formats {fmts2}")
check(abs(len(pcm2) - whole) < 0.05 * whole, f"streamed {len(pcm2)} bytes vs {whole} (spoken twice or dropped?)")

# errors come back as error events; the connection stays usable
p.send_split("synthesize", {"text": "hi", "voice": {"name": "no-such-voice-xyz"}})
t, d, _ = p.read_event()
check(t == "error" and d.get("code") == "E_UNKNOWN_VOICE" and d.get("text"), f"bad voice: {t} {d}")
p.send_split("synthesize-chunk", {"text": "orphan"})
t, d, _ = p.read_event()
check(t == "error", f"chunk without start: {t}")
p.send_inline("ping")
check(p.read_event()[0] == "pong", "connection unusable after errors")
p.s.close()

# malformed frames: an error or a closed connection, never a crash
def closes_after(raw, expect_error=True):
    q = Peer(timeout=5)
    q.s.sendall(raw)
    try:
        t, d, _ = q.read_event()
        got = t
        q.read_event()
        got += "+more"
    except (EOFError, ConnectionResetError, socket.timeout):
        got = locals().get("got", "closed")
    q.s.close()
    return got
check(closes_after(b"{not json\n").startswith("error"), "bad JSON header")
check(closes_after(b'{"type":"synthesize","data_length":99999999999}\n').startswith("error"), "huge data_length")
check(closes_after(b'{"type":"synthesize","data_length":5}\n[1,2]').startswith("error"), "data not an object")
check(closes_after(b'{"type":"synthesize","payload_length":-4}\n').startswith("error"), "negative length")
check(closes_after(b"x" * 70000).startswith("error"), "endless header line")
r = closes_after(b'{"type":"synthesize","data_length":500}\n{"text":')  # peer stops mid-data
check(r == "closed" or r.startswith("error") is False, f"truncated data: {r}")

# a peer that vanishes mid-synthesis: the server goes on serving others
q = Peer()
q.send_split("synthesize", {"text": "This is a long sentence. " * 200})
q.read_event()
q.s.close()
time.sleep(0.5)
p = Peer()
p.send_inline("ping")
check(p.read_event()[0] == "pong", "server stuck after a vanished peer")
p.s.close()
import os
try:
    os.kill(pid, 0); alive = True
except OSError:
    alive = False
check(alive, "the server died")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
EOF
rc=$?
kill -TERM $pid
wait $pid
src=$?
[ $src = 0 ] || { echo "FAIL: server exited $src on SIGTERM: $(tail -5 "$T/server.log")"; exit 1; }
exit $rc
