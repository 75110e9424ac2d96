#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""An async chat app's TTS backend on chorus: the shape tldw_chatbook's backends implement.

tldw_chatbook (shared/specs/prior-art-tldw.md, clients.md) drives every TTS engine through
``TTSBackendBase``: ``initialize()``, ``async generate_speech_stream(request)`` yielding audio
bytes, ``close()``, ``get_capabilities()``, with an OpenAI-style ``OpenAISpeechRequest``
(input, voice, model, response_format, speed, lang_code, normalization_options, extra_params).
:class:`ChorusSpeechBackend` is such a backend, in-process: no HTTP server, no subprocess.

    backend = ChorusSpeechBackend({"backend": "espeak"})
    await backend.initialize()
    async for piece in backend.generate_speech_stream(request):
        player.feed(piece)

The request may be that pydantic model, any object with those attributes, or a dict. Mapping:
``model`` chooses the chorus backend when it names one (``"espeak"``, ``"kokoro"``,
``"openai"``, ``"alltalk_narrator"``...); otherwise it is passed on as the backend's model
(``"tts-1-hd"``). The app's own prefixes (``openai_official_tts-1``, ``local_kokoro_*``,
``elevenlabs_<model>``, ``alltalk_*``) map as its registry does. ``extra_params["language"]``
or ``lang_code`` is the language hint; other ``extra_params`` go to the backend as options
(``stability``, ``exaggeration``...). Cancelling the consuming task stops the synthesis.

Run it: ``python3 chat_adapter.py "Some text" out.mp3`` (espeak, or CHORUS_BACKEND=...).
"""
from __future__ import annotations

import asyncio
import sys
from typing import Any, AsyncIterator, Dict, Mapping, Optional, Tuple

import chorus

FORMATS = ("mp3", "opus", "aac", "flac", "wav", "pcm")  # OpenAISpeechRequest.response_format
# tldw_chatbook's backend ids -> (chorus backend, model) (its BackendRegistry patterns)
_PREFIXES = (("openai_official_", "openai"), ("local_kokoro_", "kokoro"),
             ("elevenlabs_", "elevenlabs"), ("local_chatterbox_", "chatterbox"))


def _field(req: Any, name: str, default: Any = None) -> Any:
    if isinstance(req, Mapping):
        return req.get(name, default)
    return getattr(req, name, default)


def _normalization(opts: Any) -> Optional[Dict[str, bool]]:
    """NormalizationOptions (pydantic or dict) -> chorus's normalize_options switches."""
    if opts is None:
        return None
    if not isinstance(opts, Mapping):
        opts = opts.model_dump() if hasattr(opts, "model_dump") else vars(opts)
    names = {"normalize", "unit_normalization", "url_normalization", "email_normalization",
             "optional_pluralization_normalization", "phone_normalization",
             "replace_remaining_symbols"}
    return {k: bool(v) for k, v in opts.items() if k in names}


class ChorusSpeechBackend:
    """A tldw_chatbook-style TTS backend speaking through libchorus in-process."""

    def __init__(self, config: Optional[Mapping[str, Any]] = None) -> None:
        self.config = dict(config or {})
        self.engine: Optional[chorus.Engine] = None
        self._backends: Tuple[str, ...] = ()

    async def initialize(self) -> None:
        """Create the engine (reads chorus's config.toml unless config_path/no_config say)."""
        kw: Dict[str, Any] = {}
        if self.config.get("no_config"):
            kw["no_config"] = True
        self.engine = chorus.Engine(self.config.get("config_path"), **kw)
        self._backends = tuple(b.name for b in self.engine.backends())

    def get_capabilities(self) -> Dict[str, Any]:
        assert self.engine is not None, "call initialize() first"
        name = self.config.get("backend") or self.engine.default_backend
        return {"streaming": True, "formats": list(FORMATS),
                "voices": [v.id for v in self.engine.voices(name)], "models": list(self._backends)}

    def _route(self, model: Optional[str]) -> Tuple[Optional[str], Optional[str]]:
        """(chorus backend, backend model) for an OpenAI-style model field."""
        default = self.config.get("backend")
        if not model:
            return default, None
        for prefix, backend in _PREFIXES:
            if model.startswith(prefix):
                rest = model[len(prefix):]
                if backend == "openai":
                    return backend, rest if rest in ("tts-1", "tts-1-hd", "gpt-4o-mini-tts") else "tts-1"
                return backend, None if backend in ("kokoro", "chatterbox") else rest or None
        if model in self._backends or model.startswith("alltalk_"):
            return model, None
        return default, model

    async def generate_speech_stream(self, request: Any) -> AsyncIterator[bytes]:
        """Yield the encoded audio of ``request`` (OpenAISpeechRequest fields) as it is made."""
        assert self.engine is not None, "call initialize() first"
        text = _field(request, "input")
        fmt = _field(request, "response_format", "mp3") or "mp3"
        if fmt not in FORMATS:
            raise ValueError("response_format %r: use one of %s" % (fmt, ", ".join(FORMATS)))
        backend, model = self._route(_field(request, "model"))
        extra = dict(_field(request, "extra_params") or {})
        language = extra.pop("language", None) or _field(request, "lang_code")
        voice = _field(request, "voice") or None
        stream = self.engine.astream(
            text, backend=backend, model=model, voice=voice, format=fmt,
            speed=float(_field(request, "speed", 1.0) or 1.0), language=language,
            options={k: v for k, v in extra.items() if v is not None} or None,
            normalize_options=_normalization(_field(request, "normalization_options")),
            samples=False)
        async with stream:
            async for chunk in stream:
                if chunk.data:
                    yield chunk.data

    async def close(self) -> None:
        if self.engine is not None:
            self.engine.close()
            self.engine = None


async def _main(text: str, path: str) -> None:
    import os
    backend = ChorusSpeechBackend({"backend": os.environ.get("CHORUS_BACKEND", "espeak")})
    await backend.initialize()
    try:
        fmt = path.rsplit(".", 1)[-1].lower() if "." in path else "mp3"
        with open(path, "wb") as out:
            async for piece in backend.generate_speech_stream(
                    {"input": text, "response_format": fmt, "speed": 1.0}):
                out.write(piece)
    finally:
        await backend.close()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: chat_adapter.py TEXT OUTPUT.(mp3|opus|aac|flac|wav|pcm)")
    asyncio.run(_main(sys.argv[1], sys.argv[2]))
