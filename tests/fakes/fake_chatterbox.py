#!/usr/bin/env python3
"""Loopback fake Chatterbox servers for chorus tests (../../shared/specs/providers.md §4).

--api devnen    Chatterbox-TTS-Server: POST /tts (whole WAV, Content-Length), GET
                /get_predefined_voices, GET /get_reference_files, POST /upload_reference
                (multipart "files"), errors as FastAPI {"detail": "..."}.
--api travisvn  chatterbox-tts-api: POST /v1/audio/speech (WAV), POST /v1/audio/speech/stream
                (chunked WAV as generated), GET/POST /v1/voices (multipart voice_name,
                voice_file, language; 201, 409 if the name exists), GET /health; errors as
                {"detail": {"error": {"message", "type"}}}; range checks like the real server
                (exaggeration 0.25-2, cfg_weight 0-1, temperature 0.05-5 -> 422).

The audio is real speech: espeak-ng speaks the text, sox makes it 24 kHz mono 16-bit like
Chatterbox. Misbehaviour on demand:
  --garble-seeds 2,5   devnen: those seeds give garbled audio (noise bursts, no words)
  --garble-first N     the first N speech requests give garbled audio (any API)
  --fail-when EXPR     500 when a body field matches, e.g. "exaggeration>0.45" (comma = any of)
  --hold FILE          the --hold-request'th speech request (default 2) waits until FILE exists
                       before answering (after 20 s it answers 500 instead); on travisvn's
                       stream endpoint the first request sends half a second of audio, then
                       waits (after 20 s it cuts the stream)
  --hold-request N
Every request is appended to --log as a JSON line: method, path, json (parsed body or null),
form (multipart fields; files as {filename, size, sha256, riff}).
Binds 127.0.0.1 on port 0 and prints "PORT <n>".
"""
import argparse
import hashlib
import json
import os
import random
import re
import struct
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ARGS = None
LOCK = threading.Lock()
STATE = {"speech": 0}
REFERENCE = {}   # devnen uploaded reference files: name -> bytes
LIBRARY = {}     # travisvn voice library: name -> bytes
PREDEFINED = ["Emily.wav", "Michael.wav"]
SPEECH_CACHE = {}


def speech_pcm(text, seed):
    """s16le mono 24 kHz speech of text (espeak-ng + sox). The en-us+f2 voice at 150 words a
    minute is one pocketsphinx's en-us model understands fairly well."""
    key = text
    if key in SPEECH_CACHE:
        return SPEECH_CACHE[key]
    esp = subprocess.run(["espeak-ng", "-v", "en-us+f2", "-s", "150", "--stdout", text],
                         capture_output=True, check=True).stdout
    raw = subprocess.run(["sox", "-t", "wav", "-", "-t", "raw", "-r", "24000", "-e", "signed",
                          "-b", "16", "-c", "1", "-"], input=esp, capture_output=True,
                         check=True).stdout
    SPEECH_CACHE[key] = raw
    return raw


def garbled_pcm(nsamples, seed):
    """Noise bursts with speech-like rhythm: audio, but no words in it."""
    rng = random.Random(seed)
    out = bytearray(2 * nsamples)
    for i in range(nsamples):
        env = 0.5 + 0.5 * ((i // 2400) % 2)
        struct.pack_into("<h", out, 2 * i, int(9000 * env * (rng.random() * 2 - 1)))
    return bytes(out)


def wav_header(nbytes, streaming=False):
    size = 0xFFFFFFFF if streaming else 36 + nbytes
    dsize = 0xFFFFFFFF if streaming else nbytes
    return (b"RIFF" + struct.pack("<I", size) + b"WAVEfmt " +
            struct.pack("<IHHIIHH", 16, 1, 1, 24000, 48000, 2, 16) + b"data" +
            struct.pack("<I", dsize))


def parse_multipart(body, ctype):
    m = re.search(r'boundary="?([^";]+)"?', ctype or "")
    if not m:
        return None
    b = b"--" + m.group(1).encode()
    form = {}
    for part in body.split(b)[1:]:
        if part.startswith(b"--"):
            break
        head, _, data = part.partition(b"\r\n\r\n")
        data = data[:-2] if data.endswith(b"\r\n") else data
        hs = head.decode("latin-1")
        nm = re.search(r'name="([^"]*)"', hs)
        fn = re.search(r'filename="([^"]*)"', hs)
        if not nm:
            continue
        if fn:
            form[nm.group(1)] = {"filename": fn.group(1), "size": len(data),
                                 "sha256": hashlib.sha256(data).hexdigest(),
                                 "riff": data[:4] == b"RIFF" and data[8:12] == b"WAVE",
                                 "_data": data}
        else:
            form[nm.group(1)] = data.decode("utf-8", "replace")
    return form


def fail_matches(js):
    if not ARGS.fail_when or not isinstance(js, dict):
        return None
    for cond in ARGS.fail_when.split(","):
        m = re.match(r"^\s*(\w+)\s*(>=|<=|>|<|==)\s*([-\d.]+)\s*$", cond)
        if not m or m.group(1) not in js:
            continue
        try:
            v, lim = float(js[m.group(1)]), float(m.group(3))
        except (TypeError, ValueError):
            continue
        ok = {">": v > lim, "<": v < lim, ">=": v >= lim, "<=": v <= lim, "==": v == lim}
        if ok[m.group(2)]:
            return cond.strip()
    return None


def wait_hold():
    """False if the client never showed the audio it already has (FILE never appeared)."""
    if not ARGS.hold:
        return True
    t0 = time.time()
    while not os.path.exists(ARGS.hold):
        if time.time() - t0 > 20:
            return False
        time.sleep(0.02)
    return True


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        pass

    def record(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        js, form = None, None
        ctype = self.headers.get("Content-Type", "")
        if ctype.startswith("application/json"):
            try:
                js = json.loads(body)
            except ValueError:
                js = None
        elif ctype.startswith("multipart/form-data"):
            form = parse_multipart(body, ctype)
        path = self.path.split("?")[0]
        logged = {"method": self.command, "path": path, "json": js,
                  "form": {k: ({kk: vv for kk, vv in v.items() if kk != "_data"}
                               if isinstance(v, dict) else v) for k, v in form.items()}
                  if form is not None else None}
        with LOCK:
            if ARGS.log:
                with open(ARGS.log, "a") as f:
                    f.write(json.dumps(logged) + "\n")
        return path, js, form

    def send_json(self, code, obj):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def error(self, code, msg, etype="generation_error"):
        if ARGS.api == "devnen":
            return self.send_json(code, {"detail": msg})
        return self.send_json(code, {"detail": {"error": {"message": msg, "type": etype}}})

    def send_wav(self, pcm):
        data = wav_header(len(pcm)) + pcm
        if ARGS.api == "travisvn":
            # travisvn's non-streaming endpoint: ta.save(buffer, audio, model.sr, format="wav")
            # on a float tensor with torchaudio<2.7's soundfile backend -> 32-bit float WAV
            # (app/api/endpoints/speech.py)
            n = len(pcm) // 2
            xs = struct.unpack("<%dh" % n, pcm[:2 * n])
            fdata = struct.pack("<%df" % n, *[x / 32768.0 for x in xs])
            fmt = struct.pack("<HHIIHH", 3, 1, 24000, 96000, 4, 32)
            data = (b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 12 + 8 + len(fdata)) +
                    b"WAVEfmt " + struct.pack("<I", len(fmt)) + fmt +
                    b"fact" + struct.pack("<II", 4, n) + b"data" +
                    struct.pack("<I", len(fdata)) + fdata)
        self.send_response(200)
        self.send_header("Content-Type", "audio/wav")
        self.send_header("Content-Disposition", 'attachment; filename="speech.wav"')
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def chunk(self, data):
        self.wfile.write(b"%x\r\n" % len(data) + data + b"\r\n")
        self.wfile.flush()

    def stream_wav(self, pcm, hold_midway):
        self.send_response(200)
        self.send_header("Content-Type", "audio/wav")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.chunk(wav_header(0, streaming=True))
        step = 24000  # half a second per chunk, as the model generates it
        for i in range(0, len(pcm), step):
            self.chunk(pcm[i:i + step])
            if i == 0 and hold_midway and not wait_hold():
                self.close_connection = True  # cut the stream: the client was not streaming
                return
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def do_GET(self):
        path, _, _ = self.record()
        if ARGS.api == "devnen":
            if path == "/get_predefined_voices":
                return self.send_json(200, [{"display_name": v[:-4], "filename": v}
                                            for v in PREDEFINED])
            if path == "/get_reference_files":
                with LOCK:
                    return self.send_json(200, sorted(REFERENCE))
        else:
            if path in ("/health", "/v1/health"):
                # 200 whatever the state (app/api/endpoints/health.py): "initializing" while
                # the model loads, "error" when it failed
                return self.send_json(200, {"status": ARGS.health,
                                            "model_loaded": ARGS.health == "healthy"})
            if path in ("/voices", "/v1/voices"):
                with LOCK:
                    vs = [{"name": n, "language": "en"} for n in sorted(LIBRARY)]
                return self.send_json(200, {"voices": vs, "count": len(vs)})
        return self.send_json(404, {"detail": "Not Found"})

    def do_POST(self):
        path, js, form = self.record()
        if ARGS.api == "devnen":
            if path == "/upload_reference":
                f = (form or {}).get("files")
                if not isinstance(f, dict) or not f["filename"].endswith((".wav", ".mp3")):
                    return self.send_json(400, {"message": "no valid files", "uploaded_files": [],
                                                "errors": ["invalid file"]})
                # server.py upload_reference: clips over max_reference_duration_sec (30 s in
                # config.yaml) are refused
                d = f["_data"]
                if d[:4] == b"RIFF" and len(d) > 44:
                    rate, bits, ch = struct.unpack("<I", d[24:28])[0], d[34], d[22]
                    secs = (len(d) - 44) / float(max(1, rate * ch * bits // 8))
                    if secs > 30.0:
                        return self.send_json(400, {"message": "no valid files",
                                                    "uploaded_files": [],
                                                    "errors": ["%s: duration %.1fs exceeds the "
                                                               "maximum of 30s" %
                                                               (f["filename"], secs)]})
                with LOCK:
                    REFERENCE[f["filename"]] = f["_data"]
                    allf = sorted(REFERENCE)
                return self.send_json(200, {"message": "ok", "uploaded_files": [f["filename"]],
                                            "all_reference_files": allf, "errors": []})
            if path == "/tts":
                return self.speech(js, stream=False)
        else:
            if path in ("/voices", "/v1/voices"):
                f = (form or {}).get("voice_file")
                name = (form or {}).get("voice_name")
                if not isinstance(f, dict) or not isinstance(name, str) or not 1 <= len(name) <= 100:
                    return self.error(422, "voice_name and voice_file are required",
                                      "validation_error")
                with LOCK:
                    if name in LIBRARY:
                        return self.error(409, "Voice '%s' already exists" % name,
                                          "invalid_request_error")
                    LIBRARY[name] = f["_data"]
                return self.send_json(201, {"message": "created", "voice": {"name": name}})
            if path in ("/v1/audio/speech", "/audio/speech", "/tts"):
                return self.speech(js, stream=False)
            if path in ("/v1/audio/speech/stream", "/audio/speech/stream"):
                return self.speech(js, stream=True)
        return self.send_json(404, {"detail": "Not Found"})

    def speech(self, js, stream):
        with LOCK:
            STATE["speech"] += 1
            nth = STATE["speech"]
        if not isinstance(js, dict):
            return self.error(422, "body is not JSON", "validation_error")
        bad = fail_matches(js)
        if bad:
            return self.error(500, "CUDA error: generation diverged (%s)" % bad)
        if ARGS.api == "devnen":
            text = js.get("text")
            if not isinstance(text, str) or not text:
                return self.error(422, "text is required")
            mode = js.get("voice_mode", "predefined")
            if mode == "clone":
                ref = js.get("reference_audio_filename")
                if not ref:
                    return self.error(400, "Missing 'reference_audio_filename' for clone mode")
                with LOCK:
                    if ref not in REFERENCE:
                        return self.error(404, "Reference audio file not found: %s" % ref)
            else:
                v = js.get("predefined_voice_id")
                if not v:
                    return self.error(400, "Missing 'predefined_voice_id' for predefined mode")
                if v not in PREDEFINED:
                    return self.error(404, "Predefined voice file not found: %s" % v)
            seed = int(js.get("seed") or 0)
        else:
            text = js.get("input")
            if not isinstance(text, str) or not 1 <= len(text) <= 3000:
                return self.error(422, "input must be 1-3000 characters", "validation_error")
            for k, lo, hi in (("exaggeration", 0.25, 2.0), ("cfg_weight", 0.0, 1.0),
                              ("temperature", 0.05, 5.0)):
                if k in js and not lo <= float(js[k]) <= hi:
                    return self.error(422, "%s must be between %g and %g" % (k, lo, hi),
                                      "validation_error")
            # an unknown "voice" silently falls back to the default voice, no error
            # (app/api/endpoints/speech.py resolve_voice_path_and_language)
            seed = nth
        garble = nth <= ARGS.garble_first or (ARGS.api == "devnen" and str(seed) in
                                               ARGS.garble_seeds.split(","))
        pcm = speech_pcm(text, seed)
        if garble:
            pcm = garbled_pcm(len(pcm) // 2, seed)
        if stream:
            return self.stream_wav(pcm, hold_midway=(nth == 1))
        if nth == ARGS.hold_request and not wait_hold():
            return self.error(500, "held request: the first chunk's audio never reached the "
                              "client")
        return self.send_wav(pcm)


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--api", choices=["devnen", "travisvn"], default="devnen")
    ap.add_argument("--log", default="")
    ap.add_argument("--garble-seeds", default="")
    ap.add_argument("--garble-first", type=int, default=0)
    ap.add_argument("--fail-when", default="")
    ap.add_argument("--hold", default="")
    ap.add_argument("--hold-request", type=int, default=2)
    ap.add_argument("--health", default="healthy", choices=["healthy", "initializing", "error"],
                    help="travisvn: the status /health reports (always with HTTP 200)")
    ARGS = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    print("PORT %d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
