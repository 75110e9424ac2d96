# SPDX-License-Identifier: GPL-3.0-or-later
"""Checking arguments before they reach C: wrong types raise TypeError, bad values ValueError.

The library validates everything again (and says more), but a Python caller gets Python's own
exceptions for mistakes Python can see: a str where a str belongs, no NUL characters (C strings
would be cut there), numbers in the ranges chorus.h documents, a format chorus knows.
"""
from __future__ import annotations

import ctypes
import math
import os
from typing import Any, Mapping, Optional, Tuple, Union

from . import _lib

# Longest name (backend, voice, model, language, option key...) passed to C. Real ones are short
# ("alltalk_narrator", an ElevenLabs voice id); this only bounds what a hostile caller can send.
MAX_NAME = 1024
# Longest option value or normalize_options string.
MAX_VALUE = 4096
FORMATS = ("wav", "pcm", "mp3", "opus", "flac", "aac")
# enum chorus_format (values are frozen by the ABI policy); "ogg" is Opus, as
# chorus_format_from_name() has it (tests/test_abi.py checks the table against the library).
FORMAT_IDS = {"wav": 1, "pcm": 2, "mp3": 3, "opus": 4, "ogg": 4, "flac": 5, "aac": 6}

StrPath = Union[str, "os.PathLike[str]"]
OptionValue = Union[str, int, float, bool]


def _typename(v: Any) -> str:
    return type(v).__name__


def name(value: Any, what: str, limit: int = MAX_NAME) -> Optional[bytes]:
    """An optional short string argument, UTF-8 encoded, or None."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError("%s must be a str or None, not %s" % (what, _typename(value)))
    if "\0" in value:
        raise ValueError("%s contains a NUL character" % what)
    if len(value) > limit:
        raise ValueError("%s is %d characters long; the limit is %d" % (what, len(value), limit))
    return utf8(value, what)


def utf8(value: str, what: str) -> bytes:
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("%s is not encodable as UTF-8 (a lone surrogate at index %d?): %s"
                         % (what, exc.start, exc.reason)) from None


def speech_text(value: Any, what: str = "text") -> bytes:
    """The text to speak: a non-blank str without NUL characters."""
    if not isinstance(value, str):
        raise TypeError("%s must be a str, not %s" % (what, _typename(value)))
    if not value or value.isspace():
        raise ValueError("%s is empty or only whitespace: nothing to speak" % what)
    if "\0" in value:
        raise ValueError("%s contains a NUL character at index %d" % (what, value.index("\0")))
    return utf8(value, what)


def number(value: Any, what: str, lo: float, hi: float) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError("%s must be a number, not %s" % (what, _typename(value)))
    if not (math.isfinite(value) and lo <= value <= hi):
        raise ValueError("%s %r is out of range: use %g to %g" % (what, value, lo, hi))
    return float(value)


def integer(value: Any, what: str, lo: int, hi: int) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("%s must be an int, not %s" % (what, _typename(value)))
    if not lo <= value <= hi:
        raise ValueError("%s %d is out of range: use %d to %d" % (what, value, lo, hi))
    return value


def flag(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError("%s must be True or False, not %s" % (what, _typename(value)))
    return value


def audio_format(value: Any, what: str = "format") -> int:
    """A format name ("wav", "mp3", "ogg"...) as enum chorus_format; None: DEFAULT (0)."""
    if value is None:
        return 0
    if not isinstance(value, str):
        raise TypeError("%s must be a str or None, not %s" % (what, _typename(value)))
    f = FORMAT_IDS.get(value.lower(), 0)
    if f <= 0:
        raise ValueError("%s %r is not one chorus knows: use one of %s"
                         % (what, value, ", ".join(FORMATS)))
    return f


def input_kind(value: Any) -> int:
    if not isinstance(value, str):
        raise TypeError("input must be a str, not %s" % _typename(value))
    try:
        return _lib.INPUT_KINDS[value]
    except KeyError:
        raise ValueError("input %r is not one of %s" % (value, ", ".join(_lib.INPUT_KINDS))) from None


def path(value: Any, what: str = "path") -> bytes:
    if not isinstance(value, (str, bytes, os.PathLike)):
        raise TypeError("%s must be a str or os.PathLike, not %s" % (what, _typename(value)))
    p = os.fsencode(value)
    if not p:
        raise ValueError("%s is empty" % what)
    if b"\0" in p:
        raise ValueError("%s contains a NUL character" % what)
    return p


def _option_value(key: str, v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        if isinstance(v, float) and not math.isfinite(v):
            raise ValueError("option %r: %r is not a finite number" % (key, v))
        return repr(v) if isinstance(v, float) else str(v)
    if isinstance(v, str):
        return v
    raise TypeError("option %r must be a str, int, float or bool, not %s" % (key, _typename(v)))


def options(value: Any) -> Tuple[Optional[ctypes.Array], int, list]:
    """Backend options {key: value} as a chorus_option array (and the bytes it points to)."""
    if value is None or value == {}:
        return None, 0, []
    if not isinstance(value, Mapping):
        raise TypeError("options must be a mapping {key: value}, not %s" % _typename(value))
    keep = []
    arr = (_lib.Option * len(value))()
    for i, (k, v) in enumerate(value.items()):
        if not isinstance(k, str):
            raise TypeError("option keys must be str, not %s" % _typename(k))
        kb = name(k, "option key")
        vb = name(_option_value(k, v), "option %r" % k, MAX_VALUE)
        keep += [kb, vb]
        arr[i].key = kb
        arr[i].value = vb
    return arr, len(value), keep


def normalize_options(value: Any) -> Optional[bytes]:
    """Normalization switches: "key=value,..." or {key: bool} (Kokoro-FastAPI's names)."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        parts = []
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError("normalize_options keys must be str, not %s" % _typename(k))
            if "," in k or "=" in k:
                raise ValueError("normalize_options key %r contains ',' or '='" % k)
            parts.append("%s=%s" % (k, "true" if flag(v, "normalize_options[%r]" % k) else "false"))
        value = ",".join(parts)
    if not isinstance(value, str):
        raise TypeError("normalize_options must be a str or a mapping, not %s" % _typename(value))
    return name(value, "normalize_options", MAX_VALUE)

