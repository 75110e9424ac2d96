# SPDX-License-Identifier: GPL-3.0-or-later
"""chorus: streaming text-to-speech (libchorus) from Python.

    import chorus
    with chorus.Engine() as engine:
        wav = engine.say("Hello, world.", backend="espeak")     # a complete WAV file
        for chunk in engine.stream("A longer text...", format="pcm"):
            play(chunk.samples)                                  # array('f'), as it comes
        # asyncio: async for chunk in engine.astream(text): ...

The package loads libchorus.so through ctypes: $CHORUS_LIBRARY if set, else a libchorus.so.1
next to this file, else the installed one (the dynamic loader's search). Names and defaults
are those of the C API (include/chorus/chorus.h) and of `chorus say`.
"""
from __future__ import annotations

import ctypes
from typing import Tuple

from . import _lib
from ._async import AsyncStream
from ._engine import Engine, Stream, normalize
from ._errors import Busy, Cancelled, ChorusError, Unavailable
from ._types import (Backend, CacheStats, Chunk, EngineStats, Estimate, OptionInfo, Voice,
                     WordTiming)
from . import _args

__all__ = [
    "Engine", "Stream", "AsyncStream", "Chunk", "WordTiming", "Backend", "Voice", "OptionInfo",
    "Estimate", "EngineStats", "CacheStats", "ChorusError", "Cancelled", "Busy", "Unavailable",
    "normalize", "detect_language", "library_version", "format_supported", "format_mime",
    "format_decode_delay", "FORMATS", "__version__",
]

__version__ = "0.1.0"
FORMATS = _args.FORMATS


def library_version() -> Tuple[str, int]:
    """The loaded libchorus's version: ("0.1.0", CHORUS_VERSION_NUMBER)."""
    return _lib.lib.chorus_version().decode(), int(_lib.lib.chorus_version_number())


def format_supported(format: str) -> bool:
    """Whether this build of the library can produce ``format`` ("mp3", "aac"...)."""
    return bool(_lib.lib.chorus_format_supported(_args.audio_format(format)))


def format_mime(format: str) -> str:
    """The MIME type of ``format`` ("mp3" -> "audio/mpeg")."""
    return _lib.lib.chorus_format_mime(_args.audio_format(format)).decode()


def format_decode_delay(format: str, sample_rate: int, is_file: bool = False) -> float:
    """Seconds a standard decoder's output lags the timestamps (AAC, streamed MP3); 0 if none."""
    f = _args.audio_format(format)
    r = _args.integer(sample_rate, "sample_rate", 1, 768000)
    return float(_lib.lib.chorus_format_decode_delay(f, r, int(_args.flag(is_file, "is_file"))))


def detect_language(text: str) -> Tuple[str, float]:
    """The language of ``text``: (ISO 639-1 code or "und", confidence 0..1)."""
    tb = _args.speech_text(text)
    conf = ctypes.c_double()
    code = _lib.lib.chorus_detect_language(tb, len(tb), ctypes.byref(conf))
    return code.decode(), conf.value
