#!/usr/bin/env python3
"""Loopback fake TTS providers for chorus tests: OpenAI, ElevenLabs, AllTalk v2.

Each fake speaks its provider's wire format (../../shared/specs/providers.md): chunked streaming
audio with delays between chunks, OpenAI SSE (`data: {...}\\n\\n`), ElevenLabs NDJSON timestamps,
each provider's error envelope and statuses, Retry-After, dropped connections, a server that
never answers. Audio is real: a deterministic tone whose length follows the text (1/15 s per
character, 900 characters a minute, like speech), encoded by ffmpeg for mp3/opus/aac/flac.

Usage: fake_tts.py --provider openai|elevenlabs|alltalk [--key KEY] [--plan P1,P2,...]
                   [--log FILE] [--chunk BYTES] [--delay-ms MS] [--vary]
                   [--engine xtts|piper] [--wav s16|f32|s24|f32ext] [--transcode mp3|opus|flac]
                   [--audio-ctype MIME]
AllTalk (erew123/alltalk_tts, branch alltalkbeta @7a59e9c) as shipped: --engine piper is the
engine tts_engines.json loads (voices are .onnx models, no streaming, no female_01.wav);
--engine xtts (default here) saves float32 WAV files (system/tts_engines/xtts/model_engine.py:
torchaudio.save on float data; --wav picks the encoding, default f32) and streams a WAV whose
header says 0 bytes (Python's wave module with no frames). --transcode answers generate
requests with a file of that format (transcode_audio_if_necessary in tts_server.py);
--audio-ctype is the Content-Type /audio files get (Windows hosts guess text/plain:
alltalk_tts #635).
Binds 127.0.0.1 on an ephemeral port and prints "PORT <n>" on stdout.

--plan lists what successive speech requests get (then "ok" for the rest):
  ok            normal answer
  429:S         429 rate limit with Retry-After: S seconds
  429date:S     429 with Retry-After as an HTTP-date S seconds ahead
  429ms:MS      429 with retry-after-ms
  429long       429 with Retry-After: 3600
  quota         the provider's quota error (OpenAI 429 insufficient_quota, ElevenLabs 401)
  401 400 404 500 503 422   that status in the provider's envelope
  html502       a 502 with an HTML body (a proxy in the way)
  toolong       OpenAI gpt-4o-mini-tts: the over-2000-tokens refusal, whatever the input
  drop:N        send N bytes of the audio, then drop the connection
  hang          read the request and never answer
  slow:MS       answer with MS ms between chunks
Every request is appended to --log as one JSON object per line: method, path, query,
headers (lower-case names), body (text), json (parsed body or null), form (parsed or null),
inflight (requests being served when it arrived, itself included), conn (the number of the TCP
connection it came on: equal numbers mean a reused connection), answer_id (the request-id header
its answer carries, ElevenLabs: what a later request names in previous_request_ids).
--tls-cert/--tls-key serve HTTPS (for the connection-reuse benchmark).
"""
import argparse
import base64
import email.utils
import json
import math
import os
import re
import socket
import struct
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

SEC_PER_CHAR = 1.0 / 15.0
ARGS = None
LOCK = threading.Lock()
STATE = {"speech_requests": 0}
CACHE = {}
FILES = {}  # alltalk generated files: name -> wav bytes

OPENAI_VOICES = ["alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage",
                 "shimmer", "verse", "marin", "cedar"]
# An ElevenLabs account of today. The 2023 premade voices are gone: Rachel
# (21m00Tcm4TlvDq8ikWAM) answers 404 since 2026, EXAVITQu4vr4xnSDxMaL is now "Sarah"
# (elevenlabs-python PR #371), the SDK README speaks with George (JBFqnCBsd6RMkjVDRZzb).
EL_VOICES = [
    {"voice_id": "JBFqnCBsd6RMkjVDRZzb", "name": "George",
     "labels": {"gender": "male", "accent": "british"}, "category": "premade"},
    {"voice_id": "EXAVITQu4vr4xnSDxMaL", "name": "Sarah",
     "labels": {"gender": "female", "accent": "american"}, "category": "premade"},
    {"voice_id": "pNInz6obpgDQGcFmaJgB", "name": "Adam",
     "labels": {"gender": "male", "accent": "american"}, "category": "premade"},
]
# legacy voices are listed only with show_legacy=true (elevenlabs-python voices/client.py)
EL_LEGACY = [
    {"voice_id": "VR6AewLTigWG4xSOukaG", "name": "Arnold", "is_legacy": True,
     "labels": {"gender": "male", "accent": "american"}, "category": "premade"},
]
# a voice-library voice: 402 paid_plan_required on a free plan (3rd-party: indexable-inc #339)
EL_LIBRARY_PAID = "nPczCjzI2devNBz1zQrb"
EL_LIMITS = {"eleven_v3": 3000, "eleven_multilingual_v2": 10000, "eleven_flash_v2_5": 40000,
             "eleven_flash_v2": 30000, "eleven_turbo_v2_5": 40000, "eleven_turbo_v2": 30000}
ALLTALK_VOICES = ["female_01.wav", "female_02.wav", "male_01.wav", "male_02.wav"]
# Piper's voices are its .onnx models; en_US-ljspeech-high.onnx is its def_character_voice
# (alltalk_tts alltalkbeta: system/tts_engines/piper/model_settings.json)
PIPER_VOICES = ["en_US-ljspeech-high.onnx", "en_US-amy-medium.onnx", "en_GB-alan-medium.onnx"]


def at_voices():
    return PIPER_VOICES if ARGS.engine == "piper" else ALLTALK_VOICES


def pcm_for(text, rate, speed=1.0):
    """Deterministic s16le mono tone: 1/15 s per character (divided by speed)."""
    chars = max(1, len(text))
    n = int(round(chars * SEC_PER_CHAR / max(speed, 0.01) * rate))
    key = ("second", rate)
    if key not in CACHE:
        # one second of a 330 Hz tone with a 3 Hz amplitude wobble (periodic in 1 s)
        sec = bytearray(2 * rate)
        w = 2 * math.pi * 330.0 / rate
        for i in range(rate):
            a = 0.3 * (0.75 + 0.25 * math.sin(2 * math.pi * 3 * i / rate))
            struct.pack_into("<h", sec, 2 * i, int(32767 * a * math.sin(w * i)))
        CACHE[key] = bytes(sec)
    sec = CACHE[key]
    reps = n // rate + 1
    return (sec * reps)[:2 * n]


def wav_bytes(pcm, rate, enc):
    """s16le mono -> a WAV file in encoding enc: s16 (format 1), s24 (format 1, 24-bit), f32
    (format 3, what soundfile/sox-backed torchaudio.save writes for float tensors), f32ext
    (WAVE_FORMAT_EXTENSIBLE with the IEEE float sub-format, what libsndfile/ffmpeg write)."""
    n = len(pcm) // 2
    xs = struct.unpack("<%dh" % n, pcm[:2 * n])
    if enc == "s16":
        return wav_header(rate, len(pcm)) + pcm
    if enc == "s24":
        data = b"".join(struct.pack("<i", x << 8)[:3] for x in xs)
        fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 3, 3, 24)
    else:
        data = struct.pack("<%df" % n, *[x / 32768.0 for x in xs])
        fmt = struct.pack("<HHIIHH", 3, 1, rate, rate * 4, 4, 32)
        if enc == "f32ext":
            guid = struct.pack("<I", 3) + b"\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
            fmt = struct.pack("<HHIIHH", 0xFFFE, 1, rate, rate * 4, 4, 32) + \
                struct.pack("<HHI", 22, 32, 4) + guid
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt
    if enc != "s16":  # non-PCM WAVs carry a fact chunk (libsndfile writes one)
        chunks += b"fact" + struct.pack("<II", 4, n)
    chunks += b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


def wav_header(rate, nbytes, streaming=False):
    size = 0xFFFFFFFF if streaming else 36 + nbytes
    dsize = 0xFFFFFFFF if streaming else nbytes
    return (b"RIFF" + struct.pack("<I", size) + b"WAVEfmt " +
            struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16) +
            b"data" + struct.pack("<I", dsize))


def encode(pcm, rate, fmt):
    """pcm s16le mono -> fmt bytes (wav/pcm here, others through ffmpeg)."""
    if fmt == "pcm":
        return pcm
    if fmt == "wav":
        return wav_header(rate, len(pcm)) + pcm
    key = ("enc", fmt, rate, hash(pcm))
    if key in CACHE:
        return CACHE[key]
    codec = {"mp3": ["-c:a", "libmp3lame", "-b:a", "64k", "-f", "mp3"],
             "opus": ["-c:a", "libopus", "-b:a", "48k", "-f", "ogg"],
             "aac": ["-c:a", "aac", "-b:a", "64k", "-f", "adts"],
             "flac": ["-c:a", "flac", "-f", "flac"],
             "ulaw": ["-c:a", "pcm_mulaw", "-f", "mulaw"],
             "alaw": ["-c:a", "pcm_alaw", "-f", "alaw"]}[fmt]
    ar = rate
    if fmt == "opus":
        ar = 48000
    p = subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "s16le", "-ar",
                        str(rate), "-ac", "1", "-i", "pipe:0", "-ar", str(ar)] + codec +
                       ["pipe:1"], input=pcm, stdout=subprocess.PIPE, check=True)
    CACHE[key] = p.stdout
    return p.stdout


# Pieces of o200k_base's pre-tokenizer (the tokenizer of the gpt-4o models: tiktoken
# model.py maps "gpt-4o-" to it; its pattern in tiktoken_ext/openai_public.py): a word with
# one leading non-letter, 1-3 digits, a run of punctuation with one leading space, whitespace.
# Python's re has no \p{L}; [^\W\d_] stands for letters. BPE then merges within a piece.
O200K_PIECE = re.compile(r"[^\r\n\w]?[^\W\d_]+|\d{1,3}| ?[^\s\w]+[\r\n/]*|\s+")
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def o200k_tokens(text):
    """The fake's token count: a word piece is one token per 10 letters (rounded up), a CJK
    character one token (o200k's measured density is 0.7-1.5 characters per token), each
    punctuation character one, a digit group or whitespace run one."""
    n = 0
    for m in O200K_PIECE.finditer(text):
        p = m.group()
        cjk = len(CJK.findall(p))
        if cjk:
            n += cjk + (1 if len(p) > cjk else 0)
        elif p[-1:].isalpha():
            n += (len(p) + 9) // 10
        elif p.isspace() or p.isdigit():
            n += 1
        else:
            n += len(p.strip())
    return n


def next_plan():
    with LOCK:
        i = STATE["speech_requests"]
        STATE["speech_requests"] += 1
    plan = ARGS.plan.split(",") if ARGS.plan else []
    return plan[i] if i < len(plan) else "ok"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-tts/1.0"

    def setup(self):
        # one handler per connection: number them, so the log shows connection reuse
        super().setup()
        with LOCK:
            STATE["conns"] = STATE.get("conns", 0) + 1
            self.conn_id = STATE["conns"]

    def log_message(self, fmt, *a):  # quiet
        pass

    # ---- plumbing -------------------------------------------------------------------------
    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def record(self, body):
        u = urlparse(self.path)
        text = body.decode("utf-8", "replace")
        try:
            js = json.loads(text) if text else None
        except ValueError:
            js = None
        form = None
        ctype = self.headers.get("Content-Type", "")
        if "application/x-www-form-urlencoded" in ctype:
            form = {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}
        entry = {"method": self.command, "path": u.path, "conn": self.conn_id,
                 "query": {k: v[0] for k, v in parse_qs(u.query).items()},
                 "raw_path": self.path,
                 "headers": {k.lower(): v for k, v in self.headers.items()},
                 "body": text, "json": js, "form": form,
                 "inflight": getattr(self, "inflight", 1),
                 "answer_id": getattr(self, "answer_id", None)}
        if ARGS.log:
            with LOCK, open(ARGS.log, "a") as f:
                f.write(json.dumps(entry) + "\n")
        return entry

    def send_json(self, code, obj, extra=None):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def start_chunked(self, ctype, extra=None):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Transfer-Encoding", "chunked")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()

    def chunk(self, data):
        if data:
            self.wfile.write(b"%x\r\n" % len(data) + data + b"\r\n")
            self.wfile.flush()

    def end_chunked(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def drop(self):
        self.wfile.flush()
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.close_connection = True

    def stream_bytes(self, data, ctype, plan, extra=None):
        """Chunked body with delays; honours drop:N and slow:MS."""
        delay = ARGS.delay_ms / 1000.0
        drop_at = None
        if plan.startswith("drop:"):
            drop_at = int(plan.split(":")[1])
        if plan.startswith("slow:"):
            delay = int(plan.split(":")[1]) / 1000.0
        self.start_chunked(ctype, extra)
        sent = 0
        step = ARGS.chunk
        while sent < len(data):
            piece = data[sent:sent + step]
            if drop_at is not None and sent + len(piece) >= drop_at:
                self.chunk(piece[:max(0, drop_at - sent)])
                self.drop()
                return
            self.chunk(piece)
            sent += len(piece)
            # pause between the first chunks (streaming is visible), then go at full speed
            if delay and (sent <= 16 * step or plan.startswith("slow:")):
                time.sleep(delay)
        self.end_chunked()

    def hang(self):
        time.sleep(60)
        self.close_connection = True

    def retry_headers(self, plan):
        if plan.startswith("429date:"):
            s = int(plan.split(":")[1])
            return {"Retry-After": email.utils.formatdate(time.time() + s, usegmt=True)}
        if plan.startswith("429ms:"):
            return {"retry-after-ms": plan.split(":")[1]}
        if plan == "429long":
            return {"Retry-After": "3600"}
        if plan.startswith("429:"):
            return {"Retry-After": plan.split(":")[1]}
        return {}

    def check_auth(self, header, prefix):
        got = self.headers.get(header, "")
        return ARGS.key is None or got == prefix + ARGS.key

    # ---- dispatch -------------------------------------------------------------------------
    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def do_PUT(self):
        self.route("PUT")

    def route(self, method):
        body = self.read_body()
        with LOCK:
            STATE["inflight"] = STATE.get("inflight", 0) + 1
            self.inflight = STATE["inflight"]
        self.answer_id = "el-req-" + uuid.uuid4().hex if ARGS.provider == "elevenlabs" else None
        try:
            entry = self.record(body)
            getattr(self, "handle_" + ARGS.provider)(method, entry)
        finally:
            with LOCK:
                STATE["inflight"] -= 1

    # ---- OpenAI ---------------------------------------------------------------------------
    def openai_error(self, code, message, etype, ecode, extra=None, param=None):
        # Error{code, message, param, type} (openai-openapi openapi.yaml). x-should-retry is
        # the server's own retry advice, obeyed first by openai-python (_base_client.py
        # _should_retry): "false" on answers that will not change, none on overload/limits
        hdr = {"x-request-id": "req_" + uuid.uuid4().hex[:12]}
        if code in (400, 401, 403, 404) or ecode == "insufficient_quota":
            hdr["x-should-retry"] = "false"
        hdr.update(extra or {})
        self.send_json(code, {"error": {"message": message, "type": etype, "param": param,
                                        "code": ecode}}, hdr)

    def handle_openai(self, method, e):
        if e["path"].rstrip("/") == "/v1/models" and method == "GET":
            return self.send_json(200, {"object": "list", "data": [
                {"id": m, "object": "model", "created": 1686935002, "owned_by": "openai"}
                for m in ("tts-1", "tts-1-hd", "gpt-4o-mini-tts")]})
        if e["path"] != "/v1/audio/speech" or method != "POST":
            return self.openai_error(404, "Invalid URL (%s %s)" % (method, e["path"]),
                                     "invalid_request_error", None)
        plan = next_plan()
        if not self.check_auth("Authorization", "Bearer "):
            got = self.headers.get("Authorization", "")[7:]
            shown = (got[:3] + "*" * 10 + got[-4:]) if len(got) > 8 else got
            # real OpenAI masks the key; this fake deliberately echoes a longer fragment
            shown = got[:10] + "..." + got[-6:] if len(got) > 16 else shown
            return self.openai_error(401, "Incorrect API key provided: %s. You can find your "
                                     "API key at https://platform.openai.com/account/api-keys."
                                     % shown, "invalid_request_error", "invalid_api_key")
        if plan == "hang":
            return self.hang()
        if plan.startswith("429") and plan != "quota":
            return self.openai_error(429, "Rate limit reached for tts-1 in organization org-x "
                                     "on requests per min (RPM): Limit 3, Used 3, Requested 1.",
                                     "requests", "rate_limit_exceeded", self.retry_headers(plan))
        if plan == "quota":
            return self.openai_error(429, "You exceeded your current quota, please check your "
                                     "plan and billing details.", "insufficient_quota",
                                     "insufficient_quota")
        if plan == "html502":
            data = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
            self.send_response(502)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            return self.wfile.write(data)
        if plan == "409":
            return self.openai_error(409, "The request conflicted with another one in progress; "
                                     "please try again.", "invalid_request_error", None)
        if plan == "500nr":  # the server says retrying will not help
            return self.openai_error(500, "The server had an error processing your request.",
                                     "server_error", None, {"x-should-retry": "false"})
        if plan == "400retry":  # the server says a retry may work
            return self.openai_error(400, "Temporary validation backend failure.",
                                     "invalid_request_error", None, {"x-should-retry": "true"})
        for code, msg, et, ec in ((400, "Invalid value for 'speed'.", "invalid_request_error",
                                   "invalid_value"),
                                  (404, "The model 'tts-9' does not exist or you do not have "
                                   "access to it.", "invalid_request_error", "model_not_found"),
                                  (500, "The server had an error while processing your "
                                   "request. Sorry about that!", "server_error", None),
                                  (503, "The engine is currently overloaded, please try again "
                                   "later.", "server_error", None)):
            if plan == str(code):
                return self.openai_error(code, msg, et, ec)
        js = e["json"]
        if not isinstance(js, dict):
            return self.openai_error(400, "We could not parse the JSON body of your request.",
                                     "invalid_request_error", None)
        for k in js:
            if k not in ("model", "input", "voice", "instructions", "response_format", "speed",
                         "stream_format"):
                return self.openai_error(400, "Unrecognized request argument supplied: %s" % k,
                                         "invalid_request_error", None)
        text = js.get("input")
        if not isinstance(text, str) or not text:
            return self.openai_error(400, "Missing required parameter: 'input'.",
                                     "invalid_request_error", "missing_required_parameter")
        if len(text) > 4096:
            return self.openai_error(400, "[{'type': 'string_too_long', 'loc': ('body', "
                                     "'input'), 'msg': 'String should have at most 4096 "
                                     "characters'}]", "invalid_request_error", None)
        model = js.get("model")
        if model == "gpt-4o-mini-tts" and (o200k_tokens(text) > 2000 or plan == "toolong"):
            # gpt-4o-mini-tts caps input at 2000 tokens; the refusal as the real API words it
            # (an openai-python traceback in troykelly/live-news-break#222: 400, code
            # invalid_value, param null)
            return self.openai_error(400, "Input of %d tokens is over the maximum input limit "
                                     "of 2000 tokens. Please shorten your input."
                                     % max(o200k_tokens(text), 2001), "invalid_request_error",
                                     "invalid_value")
        if model not in ("tts-1", "tts-1-hd", "gpt-4o-mini-tts"):
            return self.openai_error(404, "The model '%s' does not exist or you do not have "
                                     "access to it." % model, "invalid_request_error",
                                     "model_not_found")
        voice = js.get("voice")
        if isinstance(voice, dict):
            voice = voice.get("id")
        if not isinstance(voice, str) or not (voice in OPENAI_VOICES or voice.startswith("voice_")):
            # the real wording names the value, not the field; the field is in error.param
            return self.openai_error(400, "Invalid value: '%s'. Supported values are: %s."
                                     % (voice, ", ".join("'%s'" % v for v in OPENAI_VOICES)),
                                     "invalid_request_error", "invalid_value", param="voice")
        if "instructions" in js and model != "gpt-4o-mini-tts":
            return self.openai_error(400, "Instructions are not supported for this model.",
                                     "invalid_request_error", "invalid_value")
        fmt = js.get("response_format", "mp3")
        if fmt not in ("mp3", "opus", "aac", "flac", "wav", "pcm"):
            return self.openai_error(400, "Invalid value for 'response_format'.",
                                     "invalid_request_error", "invalid_value")
        speed = float(js.get("speed", 1.0))
        if not 0.25 <= speed <= 4.0:
            return self.openai_error(400, "Invalid value for 'speed'.", "invalid_request_error",
                                     "invalid_value")
        pcm = pcm_for(text, 24000, speed)
        if ARGS.vary:  # a non-deterministic server: each answer differs (same length)
            k = 2 * ((STATE["speech_requests"] * 37) % 1000)
            pcm = pcm[k:] + pcm[:k]
        audio = encode(pcm, 24000, fmt)
        mime = {"mp3": "audio/mpeg", "opus": "audio/ogg", "aac": "audio/aac",
                "flac": "audio/flac", "wav": "audio/wav", "pcm": "audio/pcm"}[fmt]
        hdr = {"x-request-id": "req_" + uuid.uuid4().hex[:12], "openai-version": "2020-10-01"}
        if js.get("stream_format") == "sse":
            if model in ("tts-1", "tts-1-hd"):
                return self.openai_error(400, "stream_format 'sse' is not supported for %s."
                                         % model, "invalid_request_error", "invalid_value")
            words = re.findall(r"\w+|[^\w\s]", text)
            usage = {"input_tokens": len(words) + 3,
                     "output_tokens": int(round(len(text) * SEC_PER_CHAR / speed * 1250 / 60))}
            usage["total_tokens"] = usage["input_tokens"] + usage["output_tokens"]
            frames = b""
            step = 3000
            for i in range(0, len(audio), step):
                ev = {"type": "speech.audio.delta",
                      "audio": base64.b64encode(audio[i:i + step]).decode()}
                frames += b"data: " + json.dumps(ev).encode() + b"\n\n"
            if plan == "sseerror":
                # a failure mid-stream: "event: error" with a bare Error object as data
                # (openai-openapi: the speech stream's error event)
                frames = frames[:len(frames) // 2]
                frames = frames[:frames.rfind(b"\n\n") + 2]
                frames += b"event: error\ndata: " + json.dumps(
                    {"message": "The server had an error while generating audio.",
                     "type": "server_error", "param": None, "code": None}).encode() + b"\n\n"
                return self.stream_bytes(frames, "text/event-stream", "ok", hdr)
            frames += b"data: " + json.dumps({"type": "speech.audio.done",
                                              "usage": usage}).encode() + b"\n\n"
            return self.stream_bytes(frames, "text/event-stream", plan, hdr)
        return self.stream_bytes(audio, mime, plan, hdr)

    # ---- ElevenLabs -----------------------------------------------------------------------
    def el_error(self, code, status, message, extra=None):
        hdr = {"x-trace-id": uuid.uuid4().hex}
        hdr.update(extra or {})
        self.send_json(code, {"detail": {"status": status, "message": message}}, hdr)

    def handle_elevenlabs(self, method, e):
        path = e["path"]
        if not self.check_auth("xi-api-key", ""):
            return self.el_error(401, "invalid_api_key", "Invalid API key")
        if path == "/v1/voices" and method == "GET":
            legacy = e["query"].get("show_legacy", "false") == "true"
            return self.send_json(200, {"voices": EL_VOICES + (EL_LEGACY if legacy else [])})
        m = re.match(r"^/v1/text-to-speech/([^/]+)(/stream)?(/with-timestamps)?$", path)
        if not m or method != "POST":
            return self.send_json(404, {"detail": "Not Found"})
        plan = next_plan()
        voice, timestamps = m.group(1), bool(m.group(3))
        if plan == "hang":
            return self.hang()
        if plan == "quota":
            return self.el_error(401, "quota_exceeded", "This request exceeds your quota of "
                                 "10000. You have 0 credits remaining, while 91 credits are "
                                 "required for this request.")
        if plan.startswith("429"):
            return self.el_error(429, "too_many_concurrent_requests", "You have too many "
                                 "concurrent requests. Please wait for one to finish.",
                                 self.retry_headers(plan))
        if plan in ("500", "503"):
            return self.el_error(int(plan), "internal_error", "An internal error occurred.")
        if plan == "401":
            return self.el_error(401, "invalid_api_key", "Invalid API key")
        if plan == "perm":  # a scoped key without text_to_speech
            return self.el_error(401, "missing_permissions", "The API key you used is missing "
                                 "the permission text_to_speech to execute this operation.")
        if plan == "402":
            return self.send_json(402, {"detail": {"type": "payment_required",
                                                   "code": "paid_plan_required",
                                                   "message": "Free users cannot use library "
                                                   "voices via the API. Please upgrade your "
                                                   "subscription to use this voice.",
                                                   "status": "payment_required"}})
        js = e["json"]
        if not isinstance(js, dict) or not isinstance(js.get("text"), str):
            return self.send_json(422, {"detail": [{"loc": ["body", "text"],
                                                    "msg": "field required",
                                                    "type": "value_error.missing"}]})
        if voice == EL_LIBRARY_PAID:
            return self.send_json(402, {"detail": {"type": "payment_required",
                                                   "code": "paid_plan_required",
                                                   "message": "Free users cannot use library "
                                                   "voices via the API. Please upgrade your "
                                                   "subscription to use this voice.",
                                                   "status": "payment_required"}})
        if voice not in [v["voice_id"] for v in EL_VOICES + EL_LEGACY]:
            # 404, not 400 (elevenlabs-docs PR #1317)
            return self.el_error(404, "voice_not_found", "A voice with the voice_id %s was not "
                                 "found." % voice)
        model = js.get("model_id", "eleven_multilingual_v2")
        if model not in EL_LIMITS:
            return self.el_error(400, "model_not_found", "Model %s not found." % model)
        text = js["text"]
        if len(text) > EL_LIMITS[model]:
            return self.el_error(400, "max_character_limit_exceeded", "Text is too long: %d "
                                 "characters, the limit for %s is %d." %
                                 (len(text), model, EL_LIMITS[model]))
        # request stitching: previous_text/next_text are strings, previous_request_ids and
        # next_request_ids lists of at most 3 ids ("A maximum of 3 request_ids can be send",
        # elevenlabs-python src/elevenlabs/text_to_speech/raw_client.py)
        for k in ("previous_text", "next_text"):
            if k in js and not isinstance(js[k], str):
                return self.send_json(422, {"detail": [{"loc": ["body", k], "msg": "str type "
                                                        "expected", "type": "type_error.str"}]})
        for k in ("previous_request_ids", "next_request_ids"):
            v = js.get(k)
            if v is not None and (not isinstance(v, list) or len(v) > 3 or
                                  not all(isinstance(x, str) for x in v)):
                return self.send_json(422, {"detail": [{"loc": ["body", k], "msg": "ensure this "
                                                        "value has at most 3 items",
                                                        "type": "value_error.list.max_items"}]})
        vs = js.get("voice_settings") or {}
        speed = float(vs.get("speed") or 1.0)
        if not 0.7 <= speed <= 1.2:
            return self.send_json(422, {"detail": [{"loc": ["body", "voice_settings", "speed"],
                                                    "msg": "ensure this value is less than or "
                                                    "equal to 1.2", "type": "value_error"}]})
        of = e["query"].get("output_format", "mp3_44100_128")
        parts = of.split("_")
        if parts[0] not in ("mp3", "pcm", "opus", "wav", "ulaw", "alaw") or len(parts) < 2:
            return self.send_json(422, {"detail": [{"loc": ["query", "output_format"],
                                                    "msg": "invalid output format",
                                                    "type": "value_error"}]})
        if parts[0] == "wav" and m.group(2):
            # the streaming endpoints' output_format has no wav_* (openapi: only POST
            # /v1/text-to-speech/{voice_id}, the convert endpoint, makes wav)
            return self.send_json(422, {"detail": [{"loc": ["query", "output_format"],
                                                    "msg": "value is not a valid enumeration "
                                                    "member", "type": "type_error.enum"}]})
        rate = int(parts[1])
        cost = len(text) if not model.startswith(("eleven_flash", "eleven_turbo")) \
            else (len(text) + 1) // 2
        # ElevenLabs' stitching id is the request-id header; a proxy's x-request-id may
        # come along (the fake sends one after it, so "last header wins" would pick it)
        hdr = {"request-id": self.answer_id,
               "x-request-id": "proxy-" + uuid.uuid4().hex, "character-cost": str(cost),
               "current-concurrent-requests": "1", "maximum-concurrent-requests": "4"}
        mime = {"mp3": "audio/mpeg", "pcm": "audio/pcm", "opus": "audio/ogg",
                "wav": "audio/wav", "ulaw": "audio/basic", "alaw": "audio/basic"}[parts[0]]

        def audio_for(t):
            return encode(pcm_for(t, rate, speed), rate, parts[0])

        if not timestamps:
            return self.stream_bytes(audio_for(text), mime, plan, hdr)
        badline = plan == "badline"
        # NDJSON: one object per piece of ~24 characters, alignment for that piece only
        lines = b""
        t0 = 0.0
        pieces = [text[i:i + 24] for i in range(0, len(text), 24)]
        for p in pieces:
            d = SEC_PER_CHAR / speed
            chars = list(p)
            starts = [round(t0 + k * d, 4) for k in range(len(chars))]
            ends = [round(t0 + (k + 1) * d, 4) for k in range(len(chars))]
            al = {"characters": chars, "character_start_times_seconds": starts,
                  "character_end_times_seconds": ends}
            obj = {"audio_base64": base64.b64encode(audio_for(p) if parts[0] in ("pcm",)
                                                    else b"").decode(),
                   "alignment": al, "normalized_alignment": al}
            lines += json.dumps(obj).encode() + b"\n"
            if badline and len(lines) > 0 and p is pieces[0]:
                lines += b'{"audio_base64": "AAAA", "alignment": {"charac\n'  # cut short
            t0 += len(chars) * d
        if parts[0] != "pcm":
            # encoded formats: the whole file in the first line's audio, like one stream
            first = json.loads(lines.split(b"\n")[0])
            first["audio_base64"] = base64.b64encode(audio_for(text)).decode()
            rest = lines.split(b"\n", 1)[1]
            lines = json.dumps(first).encode() + b"\n" + rest
        return self.stream_bytes(lines, "application/json", plan, hdr)

    # ---- AllTalk v2 -----------------------------------------------------------------------
    def handle_alltalk(self, method, e):
        path = e["path"]
        if path == "/api/ready":
            data = b"Ready"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            return self.wfile.write(data)
        if path == "/api/voices":
            return self.send_json(200, {"status": "success", "voices": at_voices()})
        if path == "/api/currentsettings":
            # tts_server.py apifunction_get_current_settings (a subset of its keys)
            piper = ARGS.engine == "piper"
            return self.send_json(200, {"engines_available": ["parler", "piper", "vits", "xtts"],
                                        "current_engine_loaded": ARGS.engine,
                                        "current_model_loaded": "piper" if piper
                                        else "xtts - xttsv2_2.0.3",
                                        "audio_format": "wav",
                                        "generationspeed_capable": True,
                                        "streaming_capable": not piper,
                                        "multivoice_capable": True,
                                        "languages_capable": not piper})
        if path.startswith("/audio/") or path.startswith("/audiocache/"):
            name = path.rsplit("/", 1)[1]
            data = FILES.get(name)
            if data is None:
                return self.send_json(404, {"detail": "Not Found"})
            self.send_response(200)
            # FastAPI's FileResponse guesses the type from the name; Windows registries map
            # .wav to text/plain on some hosts (alltalk_tts #635, SillyTavern #4566)
            ext = name.rsplit(".", 1)[-1]
            self.send_header("Content-Type", ARGS.audio_ctype or
                             {"wav": "audio/wav", "mp3": "audio/mpeg", "opus": "audio/ogg",
                              "flac": "audio/flac"}.get(ext, "application/octet-stream"))
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            return self.wfile.write(data)
        if path == "/api/tts-generate" and method == "POST":
            plan = next_plan()
            if plan == "hang":
                return self.hang()
            if plan in ("500", "503"):
                return self.send_json(int(plan), {"status": "generate-failure",
                                                  "error": "An error occurred"})
            f = e["form"] or {}
            text = f.get("text_input", "")
            if not text or len(text) > 2000:
                return self.send_json(400, {"error": "text_input: must be 1-2000 characters"})
            # an omitted voice is the engine's def_character_voice (tts_server.py:
            # get_character_voice_gen); Piper's default is en_US-ljspeech-high.onnx
            voice = f.get("character_voice_gen") or at_voices()[0]
            if voice not in at_voices():
                # AllTalk's real failure here is an unhelpful 500
                return self.send_json(500, {"status": "generate-failure",
                                            "error": "[Errno 2] No such file or directory: "
                                            "'voices/%s'" % voice})
            name = re.sub(r"[^a-zA-Z0-9_]", "", f.get("output_file_name", "out")) or "out"
            pcm = pcm_for(text, 22050 if ARGS.engine == "piper" else 24000,
                          float(f.get("speed", 1.0)))
            rate = 22050 if ARGS.engine == "piper" else 24000
            if ARGS.transcode:
                name = "%s_%d.%s" % (name, len(FILES), ARGS.transcode)
                FILES[name] = encode(pcm, rate, ARGS.transcode)
            else:
                name = "%s_%d.wav" % (name, len(FILES))
                # piper writes int16 through Python's wave module; XTTS float32 (see top)
                FILES[name] = wav_bytes(pcm, rate, "s16" if ARGS.engine == "piper"
                                        else ARGS.wav)
            return self.send_json(200, {"status": "generate-success",
                                        "output_file_path": "/alltalk/outputs/" + name,
                                        "output_file_url": "/audio/" + name,
                                        "output_cache_url": "/audiocache/" + name})
        if path == "/api/tts-generate-streaming" and method == "GET":
            plan = next_plan()
            if plan == "hang":
                return self.hang()
            q = e["query"]
            text = q.get("text", "")
            if not text or "voice" not in q:
                # FastAPI: text, voice, language and output_file are required query fields
                return self.send_json(422, {"detail": [{"loc": ["query", "voice"],
                                                        "msg": "field required",
                                                        "type": "value_error.missing"}]})
            if ARGS.engine == "piper":
                # streaming_capable false: the server only logs a warning, then fails
                return self.send_json(500, {"error": "An internal runtime error occurred"})
            if q.get("voice") not in at_voices():
                return self.send_json(500, {"detail": "Internal Server Error"})
            pcm = pcm_for(text, 24000)  # speed and pitch are hard-coded to 1.0 here
            # xtts/model_engine.py: wave.open(...).writeframes(b"") -> a header saying 0 bytes,
            # then int16 chunks
            hdr = bytearray(wav_header(24000, 0))
            return self.stream_bytes(bytes(hdr) + pcm, "audio/wav", plan)
        if path == "/v1/audio/speech" and method == "POST":
            plan = next_plan()
            js = e["json"] or {}
            if js.get("voice") not in ("alloy", "echo", "fable", "nova", "onyx", "shimmer"):
                # the handler's error path crashes: a bare 500
                data = b"Internal Server Error"
                self.send_response(500)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                return self.wfile.write(data)
            fmt = js.get("response_format", "wav")
            if fmt == "pcm":
                return self.send_json(400, {"error": "Invalid value: pcm"})
            pcm = pcm_for(js.get("input", ""), 24000, float(js.get("speed", 1.0)))
            # tts_server.py's OpenAI handler returns wav untranscoded: the engine's float file
            data = wav_bytes(pcm, 24000, ARGS.wav if ARGS.engine == "xtts" else "s16") \
                if fmt == "wav" else encode(pcm, 24000, fmt)
            self.send_response(200)
            self.send_header("Content-Type", "audio/" + fmt)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            return self.wfile.write(data)
        return self.send_json(404, {"detail": "Not Found"})


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--provider", required=True, choices=["openai", "elevenlabs", "alltalk"])
    ap.add_argument("--key")
    ap.add_argument("--plan", default="")
    ap.add_argument("--log")
    ap.add_argument("--chunk", type=int, default=4096)
    ap.add_argument("--delay-ms", type=int, default=5)
    ap.add_argument("--engine", default="xtts", choices=["xtts", "piper"],
                    help="alltalk: the loaded TTS engine")
    ap.add_argument("--wav", default="f32", choices=["s16", "f32", "s24", "f32ext"],
                    help="alltalk xtts: the encoding of generated WAV files")
    ap.add_argument("--transcode", choices=["mp3", "opus", "flac"],
                    help="alltalk: transcode_audio_format (generated files in this format)")
    ap.add_argument("--audio-ctype", help="alltalk: Content-Type of /audio files")
    ap.add_argument("--vary", action="store_true",
                    help="openai: every answer differs, like a sampling neural TTS")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ARGS = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if ARGS.tls_cert:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(ARGS.tls_cert, ARGS.tls_key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.daemon_threads = True
    print("PORT %d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
