#!/usr/bin/env python3
"""clients.py — replays, against a running `chorus serve`, the request sequences the TTS clients
people use send (../shared/specs/clients.md summarises each client's source; the files are named
per client below), headers included, and checks each response against what that client parses.

usage: clients.py KEYED_BASE KEY OPEN_BASE WORKDIR
  KEYED_BASE  a server started with --api-key KEY --open-listing (Open WebUI in Docker, HA...)
  OPEN_BASE   a server without a key, with --cors '*' (SillyTavern, browser clients, tldw)
Audio is decoded by ffprobe/sox, never by chorus. Prints one line per check; exit 1 on failure.
"""
import base64
import http.client
import json
import os
import struct
import subprocess
import sys
import urllib.parse

KEYED, KEY, OPEN, WORK = sys.argv[1:5]
FAILS = 0

# What each HTTP library sends on its own (python-requests 2.32, aiohttp 3.9, Node's fetch/undici).
REQUESTS_HEADERS = {"User-Agent": "python-requests/2.32.3", "Accept-Encoding": "gzip, deflate",
                    "Accept": "*/*", "Connection": "keep-alive"}
AIOHTTP_HEADERS = {"User-Agent": "Python/3.11 aiohttp/3.9.5", "Accept": "*/*",
                   "Accept-Encoding": "gzip, deflate"}
NODE_HEADERS = {"accept": "*/*", "accept-language": "*", "sec-fetch-mode": "cors",
                "user-agent": "node", "accept-encoding": "gzip, deflate"}
HTTPX_HEADERS = {"accept": "*/*", "accept-encoding": "gzip, deflate", "connection": "keep-alive",
                 "user-agent": "python-httpx/0.27.0"}


def check(what, ok, detail=""):
    global FAILS
    if ok:
        print("ok: " + what)
    else:
        FAILS += 1
        print("FAIL: %s %s" % (what, detail), file=sys.stderr)
    return ok


class Resp:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def json(self):
        return json.loads(self.body)


def call(url, method="GET", headers=None, body=None):
    """One request with exactly these headers (http.client adds Host and Content-Length only)."""
    u = urllib.parse.urlsplit(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    path = u.path + ("?" + u.query if u.query else "")
    c.putrequest(method, path, skip_accept_encoding=True)
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
    for k, v in (headers or {}).items():
        c.putheader(k, v)
    if data is not None:
        c.putheader("Content-Length", str(len(data)))
    c.endheaders(data)
    r = c.getresponse()
    out = Resp(r.status, r.getheaders(), r.read())
    c.close()
    return out


def save(name, data):
    p = os.path.join(WORK, name)
    with open(p, "wb") as f:
        f.write(data)
    return p


def probe(path, fmt=None):
    """(codec, duration seconds) by ffprobe; duration decoded in full by ffmpeg when unknown."""
    args = ["ffprobe", "-v", "error"] + (["-f", fmt] if fmt else []) + [
        "-show_entries", "stream=codec_name:format=duration", "-of", "json", path]
    try:
        j = json.loads(subprocess.run(args, capture_output=True, text=True, timeout=60).stdout or "{}")
        codec = j["streams"][0]["codec_name"]
        d = j.get("format", {}).get("duration")
        if d in (None, "N/A"):
            out = subprocess.run(["sox", path, "-n", "stat"], capture_output=True, text=True).stderr
            d = [l.split()[-1] for l in out.splitlines() if l.startswith("Length")][0]
        return codec, float(d)
    except Exception:
        return None, 0.0


def decode_pcm(path):
    """16-bit mono samples, decoded by ffmpeg."""
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-f", "s16le", "-ac", "1", "-"],
                         capture_output=True, timeout=60).stdout
    return struct.unpack("<%dh" % (len(raw) // 2), raw[:len(raw) // 2 * 2])


def longest_silence(path):
    """Seconds of the longest run under -40 dBFS in a WAV, by ffmpeg's decode at 24 kHz."""
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-f", "s16le", "-ac", "1", "-ar", "24000", "-"],
                         capture_output=True, timeout=60).stdout
    pcm = struct.unpack("<%dh" % (len(raw) // 2), raw[:len(raw) // 2 * 2])
    best = run = 0
    for x in pcm:
        run = run + 1 if abs(x) < 328 else 0
        best = max(best, run)
    return best / 24000.0


def mp3_clean(body):
    """No ID3v2 tag, and the first frame is audio, not a Xing/Info/LAME header frame."""
    if body[:3] == b"ID3" or len(body) < 4 or body[0] != 0xFF or (body[1] & 0xE0) != 0xE0:
        return False
    ver = (body[1] >> 3) & 3  # 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
    rates = {3: [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
             2: [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160]}
    srs = {3: [44100, 48000, 32000], 2: [22050, 24000, 16000], 0: [11025, 12000, 8000]}
    br = rates[3 if ver == 3 else 2][body[2] >> 4] * 1000
    sr = srs[ver][(body[2] >> 2) & 3]
    size = (144 if ver == 3 else 72) * br // sr + ((body[2] >> 1) & 1)
    first = body[:size]
    return not any(tag in first for tag in (b"Xing", b"Info", b"LAME", b"VBRI"))


def wav_exact(body):
    """A complete PCM16 RIFF/WAVE with exact sizes, read the way tldw_chatbook's
    audio_cpp_contract.validate_pcm16_wav reads it (sizes, fmt of 16 bytes, aligned data)."""
    if len(body) < 44 or body[:4] != b"RIFF" or body[8:12] != b"WAVE":
        return False
    if struct.unpack_from("<I", body, 4)[0] != len(body) - 8:
        return False
    pos, fmt, data = 12, None, None
    while pos < len(body):
        cid, size = body[pos:pos + 4], struct.unpack_from("<I", body, pos + 4)[0]
        if pos + 8 + size > len(body):
            return False
        if cid == b"fmt ":
            if size != 16:
                return False
            tag, ch, sr, brate, align, bits = struct.unpack_from("<HHIIHH", body, pos + 8)
            if tag != 1 or bits != 16 or align != ch * 2 or brate != sr * align:
                return False
            fmt = align
        elif cid == b"data":
            if fmt is None or size == 0 or size % fmt:
                return False
            data = size
        pos += 8 + size + (size & 1)
    return fmt is not None and data is not None


def speech_ok(what, r, fmt, min_s=0.5, max_s=None):
    check(what + ": 200", r.status == 200, "(%d: %s)" % (r.status, r.body[:200]))
    if r.status != 200:
        return 0.0
    p = save(what.replace(" ", "_").replace("/", "_") + "." + fmt, r.body)
    codec, d = probe(p, "s16le" if fmt == "pcm" else None)
    check("%s: decodes (%s, %.2f s)" % (what, codec, d), codec is not None and d >= min_s and
          (max_s is None or d <= max_s))
    return d


def bearer(key):
    return {"Authorization": "Bearer " + key}


# ------------------------------------------------------------------ Open WebUI
# backend/open_webui/routers/audio.py: the model and voice lists with requests.get and no
# Authorization; speech with aiohttp, Content-Type and Bearer, {input, voice, model}, no
# response_format; the base URL as the admin typed it (here with a trailing slash).
def open_webui():
    base = KEYED + "/v1/"
    r = call(base + "audio/models", headers=REQUESTS_HEADERS)
    check("open-webui: GET audio/models without a key: 200", r.status == 200, r.status)
    if r.status == 200:
        ids = [m["id"] for m in r.json()["models"]]
        check("open-webui: models[].id lists tts-1 and espeak", "tts-1" in ids and "espeak" in ids, ids)
    r = call(base + "models", headers=REQUESTS_HEADERS)
    check("open-webui: GET models (newer fallback) without a key: 200", r.status == 200 and
          all("id" in m for m in r.json()["data"]))
    r = call(base + "audio/voices", headers=REQUESTS_HEADERS)
    check("open-webui: GET audio/voices without a key: 200", r.status == 200, r.status)
    if r.status == 200:
        v = r.json()["voices"]
        check("open-webui: voices are {id, name}", v and all(isinstance(x, dict) and x.get("id") and
                                                            x.get("name") for x in v))
    r = call(KEYED + "/v1/backends", headers=REQUESTS_HEADERS)
    check("open-webui: other endpoints stay keyed (401)", r.status == 401, r.status)
    hdr = dict(AIOHTTP_HEADERS, **{"Content-Type": "application/json"}, **bearer(KEY))
    for i, sentence in enumerate(["Hello from Open WebUI, reading the first sentence aloud.",
                                  "And here comes the second one, sent while the first plays."]):
        r = call(base + "audio/speech", "POST", hdr, {"input": sentence, "voice": "alloy", "model": "tts-1"})
        speech_ok("open-webui sentence %d" % i, r, "mp3", 1.0)
        check("open-webui sentence %d: Content-Type is mp3" % i, r.header("Content-Type") == "audio/mpeg")
        check("open-webui sentence %d: no ID3/Xing/LAME frame" % i, mp3_clean(r.body))
    r = call(base + "audio/speech", "POST", hdr, {"input": "***", "voice": "alloy", "model": "tts-1"})
    speech_ok("open-webui read-aloud of *** (silence)", r, "mp3", 0.05, 2.0)
    pcm = decode_pcm(save("silence.mp3", r.body))
    peak = max((abs(x) for x in pcm), default=-1)
    check("open-webui: the *** answer is silence (peak %d of 32767)" % peak, len(pcm) > 0 and 0 <= peak < 100)
    r2 = call(base + "audio/speech", "POST", dict(AIOHTTP_HEADERS, **{"Content-Type": "application/json"}),
              {"input": "Hi", "voice": "alloy"})
    check("open-webui: speech without the key is 401", r2.status == 401, r2.status)


# ------------------------------------------------------------------ SillyTavern
# public/scripts/extensions/tts/openai-compatible.js → src/endpoints/openai.js: POST to the full
# endpoint URL the user typed, Bearer with the key or empty, customParams as strings.
def sillytavern():
    hdr = dict(NODE_HEADERS, **{"Content-Type": "application/json", "Authorization": "Bearer "})
    body = {"input": "SillyTavern speaks this line.", "response_format": "mp3", "voice": "nova",
            "speed": "1.0", "model": "tts-1", "stream": "false"}
    r = call(OPEN + "/v1/audio/speech", "POST", hdr, body)
    speech_ok("sillytavern string params", r, "mp3", 1.0)
    check("sillytavern: whole body (stream \"false\") has a Content-Length", r.header("Content-Length") is not None)
    body["speed"] = "fast"
    r = call(OPEN + "/v1/audio/speech", "POST", hdr, body)
    e = r.json().get("error", {}) if r.status == 400 else {}
    check("sillytavern: an uncoercible string is a 400 naming the field",
          r.status == 400 and e.get("param") == "speed" and e.get("code") == "invalid_type", r.body[:200])


# ------------------------------------------------------------------ LibreChat
# api/server/services/Files/Audio/TTSService.js: {input, model, voice, backend}, no
# response_format; long input split in 1000-character chunks whose mp3 answers are piped back to
# back as one stream.
def librechat():
    hdr = dict(NODE_HEADERS, **{"Content-Type": "application/json"}, **bearer(KEY))
    text = ("LibreChat reads long answers in pieces, and the pieces must join into one stream. " * 60)
    chunks = [text[i:i + 1000] for i in range(0, 2000, 1000)]
    joined = b""
    total = 0.0
    for i, c in enumerate(chunks):
        r = call(KEYED + "/v1/audio/speech", "POST", hdr, {"input": c, "model": "tts-1", "voice": "echo",
                                                             "backend": "openai"})
        total += speech_ok("librechat chunk %d" % i, r, "mp3", 5.0)
        check("librechat chunk %d: no ID3/Xing/LAME frame" % i, mp3_clean(r.body))
        joined += r.body
    codec, d = probe(save("librechat_joined.mp3", joined))
    check("librechat: the joined answers decode as one mp3 as long as the parts (%.2f vs %.2f s)" % (d, total),
          codec == "mp3" and abs(d - total) < 0.2)


# ------------------------------------------------------------------ Home Assistant openai_tts
# sfortis/openai_tts: the voice list from the folder of the speech URL with ?limit=100 and
# Bearer (strings or objects); speech with {model, voice, input, response_format, speed,
# instructions, extra}.
def home_assistant():
    hdr = dict(AIOHTTP_HEADERS, **bearer(KEY))
    r = call(KEYED + "/v1/audio/voices?limit=100", headers=hdr)
    ok = r.status == 200 and all(isinstance(x, (str, dict)) for x in r.json()["voices"])
    check("home-assistant: voices?limit=100", ok, r.status)
    body = {"model": "tts-1", "voice": "shimmer", "input": "The front door is open.",
            "response_format": "mp3", "speed": 1.0, "instructions": "calm", "extra": {}}
    r = call(KEYED + "/v1/audio/speech", "POST", dict(hdr, **{"Content-Type": "application/json"}), body)
    speech_ok("home-assistant speech", r, "mp3", 0.8)
    check("home-assistant: no ID3/Xing/LAME frame", mp3_clean(r.body))


# ------------------------------------------------------------------ Kokoro-FastAPI clients
# remsky/Kokoro-FastAPI api/src/routers/development.py and openai_compatible.py: captioned speech,
# lang_code, normalization_options, volume_multiplier, download links, phonemes, voice tags, SSML.
def kokoro_clients():
    hdr = dict(HTTPX_HEADERS, **{"content-type": "application/json"})
    r = call(OPEN + "/dev/captioned_speech", "POST", hdr,
             {"model": "espeak", "input": "Captions for every word here.", "voice": "en-us",
              "response_format": "wav", "stream": False, "return_timestamps": True, "lang_code": "a"})
    if check("kokoro: captioned stream:false 200", r.status == 200, r.body[:200]):
        j = r.json()
        words = [t["word"] for t in j["timestamps"]]
        audio = base64.b64decode(j["audio"])
        check("kokoro: captions have word/start_time/end_time", words and all(
            {"word", "start_time", "end_time"} <= set(t) for t in j["timestamps"]), words)
        check("kokoro: captioned audio is an exact WAV", j["audio_format"] == "audio/wav" and wav_exact(audio))
    r = call(OPEN + "/v1/audio/speech", "POST", hdr,
             {"input": "Louder, then a link.", "voice": "en-us", "response_format": "mp3",
              "volume_multiplier": 1.5, "normalization_options": {"normalize": True, "url_normalization": True},
              "return_download_link": True})
    speech_ok("kokoro: speech with a download link", r, "mp3", 0.5)
    path = r.header("X-Download-Path")
    check("kokoro: X-Download-Path is /download/NAME", path and path.startswith("/download/"), path)
    if path:
        d = call(OPEN + "/v1" + path, headers=HTTPX_HEADERS)
        check("kokoro: the download is the same audio", d.status == 200 and d.body == r.body, d.status)
        d = call(OPEN + "/v1/download/../server.log", headers=HTTPX_HEADERS)
        check("kokoro: no path escapes the download folder", d.status == 404, d.status)
    r = call(OPEN + "/dev/phonemize", "POST", hdr, {"text": "Hello world", "language": "a"})
    ph = r.json().get("phonemes") if r.status == 200 else None
    check("kokoro: /dev/phonemize gives phonemes and tokens", ph and r.json().get("tokens") == [], r.body[:200])
    if ph:
        r = call(OPEN + "/dev/generate_from_phonemes", "POST", hdr, {"phonemes": ph, "voice": "en-us"})
        speech_ok("kokoro: /dev/generate_from_phonemes", r, "wav", 0.4)
        check("kokoro: phoneme audio is WAV", r.header("Content-Type") == "audio/wav")
    plain = {"input": "One [voice:en-gb] two [pause:1.5s] three", "voice": "en-us", "response_format": "wav",
             "stream": False}
    r0 = call(OPEN + "/v1/audio/speech", "POST", hdr, dict(plain, input="One two three"))
    r1 = call(OPEN + "/v1/audio/speech", "POST", hdr, dict(plain, allow_voice_tags=True))
    r2 = call(OPEN + "/v1/audio/speech", "POST", hdr, plain)  # tags not allowed: read as text
    d0 = speech_ok("kokoro: no tags", r0, "wav", 0.5)
    d1 = speech_ok("kokoro: voice and pause tags", r1, "wav", 0.5)
    d2 = speech_ok("kokoro: tags without allow_voice_tags", r2, "wav", 0.5)
    s1 = longest_silence(os.path.join(WORK, "kokoro:_voice_and_pause_tags.wav"))
    s2 = longest_silence(os.path.join(WORK, "kokoro:_tags_without_allow_voice_tags.wav"))
    check("kokoro: [pause:1.5s] is a 1.5 s silence (%.2f s; %.2f s when not allowed)" % (s1, s2),
          1.3 <= s1 <= 2.0 and s2 < 1.0)
    check("kokoro: tags are not spoken (%.2f s of speech vs %.2f s for the words alone; %.2f s read as text)"
          % (d1 - s1, d0, d2), abs((d1 - s1) - d0) < 0.8 and d2 > d0 + 1.0)
    ssml = {"input": "<speak>Hello <break time=\"2s\"/> world</speak>", "voice": "en-us",
            "response_format": "wav", "stream": False, "ssml": True}
    r2 = call(OPEN + "/v1/audio/speech", "POST", hdr, ssml)
    r3 = call(OPEN + "/v1/audio/speech", "POST", hdr, dict(ssml, input="Hello world", ssml=False))
    d2 = speech_ok("kokoro: ssml true", r2, "wav", 0.5)
    d3 = speech_ok("kokoro: the same words as text", r3, "wav", 0.5)
    check("kokoro: SSML is not spoken as markup (%.2f s vs %.2f s)" % (d2, d3), 1.5 <= d2 - d3 <= 2.5)


# ------------------------------------------------------------------ tldw_chatbook
# rmusser01/tldw_chatbook tldw_chatbook/TTS/audio_cpp_contract.py: /health, /v1/models,
# /v1/audio/voices?model=, and speech as a complete PCM16 WAV with exact RIFF sizes.
def tldw():
    hdr = dict(HTTPX_HEADERS)
    h = call(OPEN + "/health", headers=hdr).json()
    check("tldw: health status ok, backend, models count", h.get("status") == "ok" and
          isinstance(h.get("backend"), str) and h["backend"] and type(h.get("models")) is int, h)
    m = call(OPEN + "/v1/models", headers=hdr).json()
    ents = m.get("data", [])
    ok = m.get("object") == "list" and ents and len({e["id"] for e in ents}) == len(ents)
    for e in ents:
        ok = ok and e.get("object") == "model" and e.get("owned_by") == "engine"
        ok = ok and all(isinstance(e.get(k), str) and e[k] and e[k] == e[k].strip() for k in ("id", "family", "task", "mode"))
    check("tldw: every model entry has owned_by engine, family, task, mode", ok, ents[:2])
    check("tldw: tts entries", any(e.get("task") == "tts" for e in ents))
    v = call(OPEN + "/v1/audio/voices?model=espeak", headers=hdr).json().get("voices", [])
    check("tldw: voices by model are unique strings", v and all(isinstance(x, str) and x for x in v) and
          len(set(v)) == len(v))
    r = call(OPEN + "/v1/audio/speech", "POST", dict(hdr, **{"content-type": "application/json"}),
             {"model": "espeak", "input": "A complete file.", "voice": v[0] if v else None,
              "response_format": "wav", "stream": False})
    check("tldw: speech is a complete PCM16 WAV with exact sizes", r.status == 200 and wav_exact(r.body))


# ------------------------------------------------------------------ browsers, base URLs, streaming
def browsers_and_urls():
    origin = "http://localhost:5001"  # KoboldAI Lite's default
    pre = {"Origin": origin, "Access-Control-Request-Method": "POST",
           "Access-Control-Request-Headers": "authorization,content-type"}
    r = call(OPEN + "/v1/audio/speech", "OPTIONS", pre)
    check("browser: preflight 204 with CORS", r.status == 204 and r.header("Access-Control-Allow-Origin") == "*"
          and "POST" in (r.header("Access-Control-Allow-Methods") or ""), r.status)
    r = call(OPEN + "/v1/audio/speech", "POST", {"Origin": origin, "Content-Type": "application/json"},
             {"input": "From a web page.", "response_format": "wav"})
    check("browser: the answer carries Access-Control-Allow-Origin", r.status == 200 and
          r.header("Access-Control-Allow-Origin") == "*")
    check("streamed WAV says unknown size", r.body[4:8] == b"\xff\xff\xff\xff" and r.body[40:44] == b"\xff\xff\xff\xff")
    r = call(OPEN + "/v1/audio/speech", "POST", {"Content-Type": "application/json"}, {"input": "x", "speed": 9})
    check("browser: errors carry CORS too", r.status == 400 and r.header("Access-Control-Allow-Origin") == "*")
    for path in ("/v1//audio/speech", "/v1/audio/speech/", "/audio/speech", "/v1/v1/audio/speech"):
        r = call(OPEN + path, "POST", {"Content-Type": "application/json"}, {"input": "Base URL.", "response_format": "pcm"})
        check("base URL variation %s: 200" % path, r.status == 200 and len(r.body) > 4800, r.status)
    for path in ("/audio/voices", "/models/", "/audio/models"):
        r = call(OPEN + path)
        check("base URL variation GET %s: 200" % path, r.status == 200, r.status)


for f in (open_webui, sillytavern, librechat, home_assistant, kokoro_clients, tldw, browsers_and_urls):
    try:
        f()
    except Exception as e:  # a shape the client could not parse
        check(f.__name__ + " ran", False, repr(e))
sys.exit(1 if FAILS else 0)
