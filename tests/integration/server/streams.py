#!/usr/bin/env python3
"""streams.py — checks for chorus serve's streamed bodies, used by tests/integration/server_*.sh.

  streams.py sse BODY OUT             parse an SSE body; write the concatenated audio deltas to OUT
  streams.py ndjson BODY OUT TEXT     parse captioned NDJSON; write the audio to OUT; check that
                                      every word is TEXT[offset:offset+length] and times are monotonic;
                                      print the last word's end time
  streams.py json BODY OUT TEXT       the same for one whole captioned JSON object ("stream": false)
  streams.py disconnect PORT BODYFILE send a speech request, read a little, hang up; print how long
                                      the server took to free the generation slot
  streams.py hold PORT BODYFILE      start a generation and never read it (until killed)
  streams.py queued-disconnect PORT   with the only slot held, queue a request and hang up while it
                                      waits; check the queue empties
Exits non-zero with a message on the first problem.
"""
import base64, json, socket, sys, time, urllib.request


def die(msg):
    print("streams.py: " + msg, file=sys.stderr)
    sys.exit(1)


def check_words(ts, text, last_end):
    prev = -1.0
    for w in ts:
        for k in ("word", "start_time", "end_time"):
            if k not in w:
                die("timestamp without %s: %r" % (k, w))
        if "offset" in w:
            b = text.encode()
            span = b[w["offset"]:w["offset"] + w["length"]].decode()
            if span != w["word"]:
                die("word %r does not match the input at %d: %r" % (w["word"], w["offset"], span))
        if w["start_time"] < prev - 1e-6:
            die("word times go backwards at %r" % (w,))
        if w["end_time"] < w["start_time"]:
            die("word ends before it starts: %r" % (w,))
        prev = w["start_time"]
        last_end = max(last_end, w["end_time"])
    return last_end


def main():
    mode = sys.argv[1]
    if mode == "sse":
        body = open(sys.argv[2], "rb").read().decode()
        audio = b""
        events = [e for e in body.split("\n\n") if e.strip()]
        if not events:
            die("no SSE events")
        for i, ev in enumerate(events):
            if not ev.startswith("data: "):
                die("SSE event without 'data: ': %r" % ev[:80])
            obj = json.loads(ev[6:])
            if obj["type"] == "speech.audio.delta":
                audio += base64.b64decode(obj["audio"], validate=True)
            elif obj["type"] == "speech.audio.done":
                if i != len(events) - 1:
                    die("speech.audio.done is not the last event")
                u = obj["usage"]
                if not all(isinstance(u[k], int) for k in ("input_tokens", "output_tokens", "total_tokens")):
                    die("usage counts missing: %r" % u)
                if u["total_tokens"] != u["input_tokens"] + u["output_tokens"]:
                    die("usage does not add up: %r" % u)
            else:
                die("unexpected SSE event type %r" % obj["type"])
        if json.loads(events[-1][6:])["type"] != "speech.audio.done":
            die("the stream does not end with speech.audio.done")
        open(sys.argv[3], "wb").write(audio)
        print(len(events))
    elif mode in ("ndjson", "json"):
        body = open(sys.argv[2], "rb").read().decode()
        text = sys.argv[4]
        objs = [json.loads(l) for l in body.splitlines() if l.strip()] if mode == "ndjson" else [json.loads(body)]
        if not objs:
            die("no NDJSON lines")
        audio = b""
        last = 0.0
        nwords = 0
        for o in objs:
            if "error" in o:
                die("error line: %r" % o)
            if not o["audio_format"].startswith("audio/"):
                die("audio_format is not a MIME type: %r" % o["audio_format"])
            audio += base64.b64decode(o["audio"], validate=True)
            last = check_words(o["timestamps"], text, last)
            nwords += len(o["timestamps"])
        if nwords == 0:
            die("no word timestamps")
        open(sys.argv[3], "wb").write(audio)
        print("%d %.3f" % (nwords, last))
    elif mode == "disconnect":
        port = int(sys.argv[2])
        body = open(sys.argv[3], "rb").read()
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"POST /v1/audio/speech HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(body) + body)
        first = s.recv(4096)
        if not first.startswith(b"HTTP/1.1 200"):
            die("expected 200, got %r" % first[:60])
        time.sleep(0.3)  # the client stops reading: the generation waits on back-pressure
        if metric(port, "chorus_generations_active") != 1:
            die("the generation is not active while the client is connected")
        s.close()
        t0 = time.monotonic()
        while metric(port, "chorus_engine_generations_active") != 0 or metric(port, "chorus_generations_active") != 0:
            if time.monotonic() - t0 > 5:
                die("the slot was not freed 5 s after the client left")
            time.sleep(0.005)
        print("%.3f" % (time.monotonic() - t0))
    elif mode == "hold":
        # hold PORT BODYFILE: start a generation, read only its first bytes, then sleep until
        # killed (the server's slot stays taken through back-pressure)
        port = int(sys.argv[2])
        body = open(sys.argv[3], "rb").read()
        s = socket.create_connection(("127.0.0.1", port))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.sendall(b"POST /v1/audio/speech HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        s.recv(100)
        time.sleep(60)
    elif mode == "queued-disconnect":
        port = int(sys.argv[2])
        body = json.dumps({"input": "queued request"}).encode()
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"POST /v1/audio/speech HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        t0 = time.monotonic()
        while metric(port, "chorus_generations_queued") != 1:
            if time.monotonic() - t0 > 5:
                die("the request never queued")
            time.sleep(0.005)
        s.close()
        t0 = time.monotonic()
        while metric(port, "chorus_generations_queued") != 0:
            if time.monotonic() - t0 > 5:
                die("the queued request was not dropped after its client left")
            time.sleep(0.005)
        print("%.3f" % (time.monotonic() - t0))
    else:
        die("unknown mode " + mode)


def metric(port, name):
    t = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port).read().decode()
    for line in t.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == name:
            return float(parts[1])
    die("metric %s not found" % name)


if __name__ == "__main__":
    main()
