"""Client side of server_stream_input.sh: the text-stream WebSocket of `chorus serve`
(GET /v1/text-to-speech/{voice}/stream-input) spoken to by python3-websockets, an independent
RFC 6455 implementation, the way ElevenLabs' stream-input is used (their API reference,
"WebSocket": a first message {"text": " "}, text messages as it is written, {"text": ""} to end;
audio comes back as {"audio": base64, "isFinal": false}, then {"isFinal": true}).

usage: stream_input.py CASE PORT WORKDIR [KEY]
Prints FAIL lines and exits 1 on a failed check.
"""
import asyncio
import base64
import json
import socket
import sys

import websockets

CASE, PORT, WORK = sys.argv[1], int(sys.argv[2]), sys.argv[3]
KEY = sys.argv[4] if len(sys.argv) > 4 else None
BASE = f"ws://127.0.0.1:{PORT}/v1/text-to-speech"
failed = 0


def check(cond, msg):
    global failed
    if not cond:
        failed += 1
        print("FAIL:", msg)


def url(voice="alloy", query="model_id=espeak&output_format=pcm_16000"):
    return f"{BASE}/{voice}/stream-input?{query}"


def headers():
    return {"Authorization": f"Bearer {KEY}"} if KEY else {}


async def recv_json(ws, timeout=60):
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def drain(ws):
    """Every message until the server closes: (audio bytes, messages, saw isFinal)."""
    audio, msgs, final = b"", [], False
    async for raw in ws:
        m = json.loads(raw)
        msgs.append(m)
        if m.get("audio"):
            audio += base64.b64decode(m["audio"])
        if m.get("isFinal"):
            final = True
    return audio, msgs, final


async def streaming():
    """Audio for the first sentence arrives while the text is still open; the rest follows at
    token size; the whole is decoded by sox (the shell side)."""
    tokens = " Then the second sentence arrives, a few words at a time, as a model writes it.".split(" ")
    async with websockets.connect(url(), extra_headers=headers()) as ws:
        await ws.send(json.dumps({"text": " "}))
        await ws.send(json.dumps({"text": "The first sentence is complete here. Then"}))
        first = await recv_json(ws)  # nothing else is sent until audio has come
        check(first.get("audio") and first.get("isFinal") is False,
              f"the first message is audio before the text ends: {str(first)[:200]}")
        audio = base64.b64decode(first.get("audio") or "")
        for t in tokens[2:]:
            await ws.send(json.dumps({"text": t + " ", "try_trigger_generation": True}))
        await ws.send(json.dumps({"text": ""}))
        rest, msgs, final = await drain(ws)
        check(final, "an isFinal message ends the audio")
        check(ws.close_code == 1000, f"a normal close after isFinal (got {ws.close_code})")
        open(f"{WORK}/stream.pcm", "wb").write(audio + rest)


async def mp3():
    async with websockets.connect(url(query="model_id=espeak&output_format=mp3_44100_128"),
                                  extra_headers=headers()) as ws:
        for piece in ["Hel", "lo from ", "a stre", "am. ", "Good", "bye."]:
            await ws.send(json.dumps({"text": piece}))
        await ws.send(json.dumps({"text": ""}))
        audio, _, final = await drain(ws)
        check(final and audio, "mp3 audio and isFinal")
        open(f"{WORK}/stream.mp3", "wb").write(audio)


async def expect_close(send, code, what):
    async with websockets.connect(url(), extra_headers=headers()) as ws:
        await send(ws)
        msgs = []
        try:
            async for raw in ws:
                msgs.append(raw)
        except websockets.ConnectionClosed:
            pass
        check(ws.close_code == code, f"{what}: close code {ws.close_code}, expected {code}")
        return msgs


async def bad_messages():
    msgs = await expect_close(lambda ws: ws.send("not json"), 1007, "a message that is not JSON")
    check(msgs and "error" in json.loads(msgs[0]), "the error is said before the close")
    await expect_close(lambda ws: ws.send(json.dumps({"flush": True})), 1007, "no text field")
    await expect_close(lambda ws: ws.send(b"\x00\x01binary"), 1003, "a binary message")
    big = json.dumps({"text": "a" * 70000})
    await expect_close(lambda ws: ws.send(big), 1009, "a message past --max-body")


async def idle():
    async with websockets.connect(url(), extra_headers=headers()) as ws:
        raw = await asyncio.wait_for(ws.recv(), 30)
        check("timeout" in raw, f"an idle stream is told why it is closed: {raw[:200]}")
        try:
            await asyncio.wait_for(ws.recv(), 30)
        except websockets.ConnectionClosed:
            pass
        check(ws.close_code == 1008, f"idle close code {ws.close_code}")


async def hangup():
    """A client that vanishes while a long sentence is spoken: its sentence is cancelled."""
    ws = await websockets.connect(url(), extra_headers=headers())
    long = " ".join(["This sentence goes on and on, clause after clause"] * 40) + ". Next"
    await ws.send(json.dumps({"text": long}))
    await recv_json(ws)  # audio has started
    ws.transport.abort()  # a TCP reset, no closing handshake


async def stopping():
    """The server stops while a stream is open: the client gets 1001."""
    async with websockets.connect(url(), extra_headers=headers()) as ws:
        await ws.send(json.dumps({"text": "A stream that the server ends. Then"}))
        await recv_json(ws)
        open(f"{WORK}/stream_open", "w").write("1")
        try:
            async for _ in ws:
                pass
        except websockets.ConnectionClosed:
            pass
        check(ws.close_code == 1001, f"close code {ws.close_code} when the server stops")


def raw_get(path, extra=""):
    """The status line of a plain GET (no upgrade or a bad one)."""
    s = socket.create_connection(("127.0.0.1", PORT), timeout=20)
    auth = f"Authorization: Bearer {KEY}\r\n" if KEY else ""
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}{extra}\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        c = s.recv(4096)
        if not c:
            break
        data += c
    s.close()
    return data.split(b"\r\n", 1)[0].decode(errors="replace")


def refusals():
    p = "/v1/text-to-speech/alloy/stream-input?model_id=espeak"
    ws = ("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n")
    check(" 426 " in raw_get(p), "a plain GET gets 426")
    check(" 426 " in raw_get(p, ws.replace(": 13", ": 8")), "an old WebSocket version gets 426")
    check(" 400 " in raw_get(p, ws.replace("dGhlIHNhbXBsZSBub25jZQ==", "short")), "a bad key gets 400")
    check(" 400 " in raw_get(p + "&output_format=opus_48000_64", ws), "opus cannot be streamed: 400")
    check(" 400 " in raw_get(p + "&output_format=wav_7", ws), "a bad output_format: 400")
    check(" 404 " in raw_get("/v1/text-to-speech/alloy/stream-input?model_id=nosuch", ws),
          "an unknown model: 404")
    check(" 101 " in raw_get(p, ws), "a good handshake: 101")


def keyed():
    p = "/v1/text-to-speech/alloy/stream-input?model_id=espeak"
    ws = ("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n")
    global KEY
    key, KEY = KEY, None
    check(" 401 " in raw_get(p, ws), "no key: 401")
    KEY = "wrong"
    check(" 401 " in raw_get(p, ws), "a wrong key: 401")
    KEY = key
    check(" 101 " in raw_get(p, ws), "the key: 101")


CASES = {"streaming": streaming, "mp3": mp3, "bad_messages": bad_messages, "idle": idle,
         "hangup": hangup, "stopping": stopping}
if CASE in CASES:
    asyncio.run(CASES[CASE]())
elif CASE == "refusals":
    refusals()
elif CASE == "keyed":
    keyed()
else:
    check(False, f"unknown case {CASE}")
sys.exit(1 if failed else 0)
