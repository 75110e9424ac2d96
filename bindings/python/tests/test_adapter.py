# SPDX-License-Identifier: GPL-3.0-or-later
"""examples/chat_adapter.py: the tldw_chatbook-style async backend, driven as that app drives
its TTS backends (initialize, generate_speech_stream(OpenAISpeechRequest), close)."""
import asyncio
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from conftest import decode, rms, wait_for

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
from chat_adapter import ChorusSpeechBackend  # noqa: E402


def collect(backend, request):
    async def run():
        await backend.initialize()
        try:
            return [p async for p in backend.generate_speech_stream(request)]
        finally:
            await backend.close()
    return asyncio.run(run())


def test_adapter_streams_mp3_from_a_pydantic_like_request():
    # the fields and defaults of tldw_chatbook's OpenAISpeechRequest
    req = SimpleNamespace(model="espeak", input="The chat app hears this sentence.",
                          voice="en-us", response_format="mp3", speed=1.0, lang_code=None,
                          normalization_options=SimpleNamespace(normalize=True,
                                                                unit_normalization=False),
                          extra_params=None, stream=True)
    pieces = collect(ChorusSpeechBackend({"no_config": True}), req)
    assert len(pieces) > 1 and all(isinstance(p, bytes) and p for p in pieces)
    r, pcm = decode(b"".join(pieces), "mp3")
    assert 1.0 < len(pcm) / r < 5.0 and rms(pcm) > 0.02


def test_adapter_routes_openai_model_names(fake):
    f = fake("openai")
    pieces = collect(ChorusSpeechBackend({"no_config": True}),
                     {"model": "openai_official_tts-1-hd", "input": "Routed to OpenAI.",
                      "voice": "nova", "response_format": "wav", "speed": 1.25})
    r, pcm = decode(b"".join(pieces), "wav")
    assert r == 24000 and abs(len(pcm) / r - len("Routed to OpenAI.") / 15 / 1.25) < 0.1
    body = [q["json"] for q in f.requests() if q["path"].endswith("/audio/speech")][0]
    assert (body["model"], body["voice"], body["speed"]) == ("tts-1-hd", "nova", 1.25)


def test_adapter_rejects_formats_the_schema_does_not_allow():
    with pytest.raises(ValueError, match="m4b"):
        collect(ChorusSpeechBackend({"no_config": True}),
                {"input": "x", "response_format": "m4b"})


def test_adapter_cancellation_frees_the_engine():
    backend = ChorusSpeechBackend({"no_config": True, "backend": "espeak"})

    async def run():
        await backend.initialize()
        got = asyncio.Event()

        async def consume():
            async for _ in backend.generate_speech_stream(
                    {"input": "A long answer from the assistant. " * 40, "response_format": "pcm"}):
                got.set()

        task = asyncio.create_task(consume())
        await got.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert wait_for(lambda: backend.engine.stats().active == 0)
        assert not backend.engine._h.streams
        await backend.close()

    asyncio.run(run())
