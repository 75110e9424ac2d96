# SPDX-License-Identifier: GPL-3.0-or-later
"""ctypes declarations of libchorus (include/chorus/chorus.h), and finding the library.

Why ctypes: it ships with Python, so the package is pure Python and installs without a compiler
or network; it releases the GIL around every foreign call (ctypes.CDLL, not PyDLL), which is
what a library whose calls block for whole syntheses needs. cffi's ABI mode would do the same
but is one more dependency for no gain here.

The struct layouts below mirror chorus.h field for field. The "sized" structs carry their
ctypes.sizeof in `size`; chorus_request_init() / chorus_engine_options_init() (exported, the
functions behind the header's inline *_default() helpers) fill the defaults, so Python gets
exactly the C defaults. tests/test_abi.py checks every layout against the C compiler's.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char, c_char_p, c_double, c_float, c_int,
                    c_size_t, c_uint, c_uint64, c_void_p)
from typing import Optional

SONAME = "libchorus.so.1"

# Status codes (chorus.h CHORUS_STATUS_LIST); names come from chorus_status_name() at run time.
OK = 0
AGAIN = 1
EOF = 2
E_INVALID = -1
E_CANCELLED = -11

FLAG_NO_CACHE = 1 << 0
FLAG_NO_SAMPLES = 1 << 1
FLAG_NO_NORMALIZE = 1 << 2

INPUT_KINDS = {"text": 0, "ssml": 1, "phonemes": 2}
FINAL_HEADER_MAX = 4096

CAPABILITIES = {
    1 << 0: "streaming",
    1 << 1: "word_timestamps",
    1 << 2: "ssml",
    1 << 3: "voice_cloning",
    1 << 4: "local",
    1 << 5: "remote",
    1 << 6: "phonemes",
}


class EngineOptions(Structure):
    _fields_ = [("size", c_size_t), ("config_path", c_char_p), ("no_config", c_int),
                ("max_concurrent", c_int), ("max_queue", c_int), ("queue_timeout_ms", c_int),
                ("pronunciations_file", c_char_p)]


class EngineStats(Structure):
    _fields_ = [("size", c_size_t), ("max_concurrent", c_int), ("active", c_int),
                ("queued", c_int), ("started_total", c_uint64)]


class CacheStats(Structure):
    _fields_ = [("size", c_size_t), ("enabled", c_int), ("dir", c_char_p), ("hits", c_uint64),
                ("misses", c_uint64), ("corrupt", c_uint64), ("stores", c_uint64),
                ("entries", c_uint64), ("bytes", c_uint64), ("max_bytes", c_uint64),
                ("hits_total", c_uint64)]


class BackendInfo(Structure):
    _fields_ = [("name", c_char_p), ("pattern", c_char_p), ("description", c_char_p),
                ("caps", c_uint), ("available", c_int), ("reason", c_char_p),
                ("max_input_chars", c_size_t), ("sample_rate", c_int)]


class OptionDesc(Structure):
    _fields_ = [("key", c_char_p), ("type", c_char_p), ("def_", c_char_p), ("min", c_double),
                ("max", c_double), ("values", c_char_p), ("help", c_char_p)]


class Voice(Structure):
    _fields_ = [("id", c_char_p), ("name", c_char_p), ("language", c_char_p),
                ("gender", c_char_p), ("backend", c_char_p), ("description", c_char_p)]


class Option(Structure):
    _fields_ = [("key", c_char_p), ("value", c_char_p)]


class Word(Structure):
    _fields_ = [("text_offset", c_size_t), ("text_len", c_size_t), ("start", c_double),
                ("end", c_double)]


class Chunk(Structure):
    _fields_ = [("index", c_uint), ("samples", POINTER(c_float)), ("n_samples", c_size_t),
                ("sample_rate", c_int), ("data", c_void_p), ("data_len", c_size_t),
                ("text_offset", c_size_t), ("text_len", c_size_t), ("start_time", c_double),
                ("words", POINTER(Word)), ("n_words", c_size_t)]


class Progress(Structure):
    _fields_ = [("chars_done", c_size_t), ("chars_total", c_size_t), ("percent", c_double),
                ("eta_seconds", c_double), ("audio_seconds", c_double),
                ("current_text", c_void_p), ("current_len", c_size_t)]


class Event(Structure):
    _fields_ = [("type", c_int), ("chunk", POINTER(Chunk)), ("word", POINTER(Word)),
                ("progress", POINTER(Progress)), ("mark_name", c_char_p),
                ("mark_time", c_double), ("status", c_int), ("message", c_char_p)]


CALLBACK = CFUNCTYPE(c_int, POINTER(Event), c_void_p)
DOWNLOAD_FN = CFUNCTYPE(c_int, c_char_p, c_uint64, c_uint64, c_void_p)


class Request(Structure):
    _fields_ = [("size", c_size_t), ("backend", c_char_p), ("model", c_char_p),
                ("voice", c_char_p), ("language", c_char_p), ("text", c_char_p),
                ("text_len", c_size_t), ("input", c_int), ("speed", c_float), ("format", c_int),
                ("sample_rate", c_int), ("options", POINTER(Option)), ("n_options", c_size_t),
                ("flags", c_uint), ("callback", CALLBACK), ("userdata", c_void_p),
                ("volume", c_float), ("normalize_options", c_char_p),
                # struct chorus_pronunciation entries: not offered by the binding yet (NULL)
                ("pronunciations", c_void_p), ("n_pronunciations", c_size_t)]


class Estimate(Structure):
    _fields_ = [("size", c_size_t), ("backend", c_char_p), ("provider", c_char_p),
                ("model", c_char_p), ("characters", c_size_t), ("input_tokens", c_double),
                ("output_tokens", c_double), ("credits", c_double), ("usd", c_double),
                ("basis", c_char_p)]


# The structs tests/test_abi.py compares with the compiler's layout (name in chorus.h -> class).
LAYOUTS = {
    "chorus_engine_options": EngineOptions, "chorus_engine_stats": EngineStats,
    "chorus_cache_stats": CacheStats, "chorus_backend_info": BackendInfo,
    "chorus_option_desc": OptionDesc, "chorus_voice": Voice, "chorus_option": Option,
    "chorus_word": Word, "chorus_chunk": Chunk, "chorus_progress": Progress,
    "chorus_event": Event, "chorus_request": Request, "chorus_estimate": Estimate,
}

_P = c_void_p  # opaque handles: struct chorus_engine *, struct chorus_stream *
_SIGNATURES = {
    "chorus_version": (c_char_p, []),
    "chorus_version_number": (c_uint, []),
    "chorus_strerror": (c_char_p, [c_int]),
    "chorus_status_name": (c_char_p, [c_int]),
    "chorus_format_name": (c_char_p, [c_int]),
    "chorus_format_mime": (c_char_p, [c_int]),
    "chorus_format_extension": (c_char_p, [c_int]),
    "chorus_format_from_name": (c_int, [c_char_p]),
    "chorus_format_from_path": (c_int, [c_char_p]),
    "chorus_format_supported": (c_int, [c_int]),
    "chorus_format_decode_delay": (c_double, [c_int, c_int, c_int]),
    "chorus_engine_options_init": (None, [POINTER(EngineOptions), c_size_t]),
    "chorus_engine_create2": (c_int, [POINTER(_P), POINTER(EngineOptions), c_char_p, c_size_t]),
    "chorus_engine_destroy": (None, [_P]),
    "chorus_engine_errmsg": (c_char_p, [_P]),
    "chorus_engine_config": (c_char_p, [_P, c_char_p, c_char_p]),
    "chorus_engine_config_path": (c_char_p, [_P]),
    "chorus_engine_default_backend": (c_char_p, [_P]),
    "chorus_engine_set_admission": (c_int, [_P, c_int, c_int, c_int]),
    "chorus_engine_get_stats": (c_int, [_P, POINTER(EngineStats)]),
    "chorus_engine_cache_stats": (c_int, [_P, POINTER(CacheStats)]),
    "chorus_engine_cache_clear": (c_int, [_P, POINTER(c_uint64), POINTER(c_uint64)]),
    "chorus_list_backends": (c_int, [_P, POINTER(POINTER(BackendInfo)), POINTER(c_size_t)]),
    "chorus_backend_infos_free": (None, [POINTER(BackendInfo), c_size_t]),
    "chorus_backend_options": (c_int, [_P, c_char_p, POINTER(POINTER(OptionDesc)),
                                       POINTER(c_size_t)]),
    "chorus_list_voices": (c_int, [_P, c_char_p, POINTER(POINTER(Voice)), POINTER(c_size_t)]),
    "chorus_voices_free": (None, [POINTER(Voice), c_size_t]),
    "chorus_request_init": (None, [POINTER(Request), c_size_t]),
    "chorus_stream_open": (c_int, [_P, POINTER(Request), POINTER(_P)]),
    "chorus_stream_run": (c_int, [_P]),
    "chorus_stream_receive": (c_int, [_P, POINTER(POINTER(Chunk)), c_int]),
    "chorus_chunk_free": (None, [POINTER(Chunk)]),
    "chorus_stream_cancel": (None, [_P]),
    "chorus_stream_errmsg": (c_char_p, [_P]),
    "chorus_stream_backend": (c_char_p, [_P]),
    "chorus_stream_voice": (c_char_p, [_P]),
    "chorus_stream_sample_rate": (c_int, [_P]),
    "chorus_stream_final_header": (c_int, [_P, POINTER(c_char), c_size_t, POINTER(c_size_t)]),
    "chorus_stream_destroy": (None, [_P]),
    "chorus_synthesize_file": (c_int, [_P, POINTER(Request), c_char_p, c_char_p, c_size_t]),
    "chorus_estimate": (c_int, [_P, POINTER(Request), POINTER(Estimate)]),
    "chorus_free": (None, [c_void_p]),
    "chorus_normalize_text": (c_int, [c_char_p, c_size_t, c_char_p, c_char_p, POINTER(c_void_p),
                                      c_void_p, c_char_p, c_size_t]),
    "chorus_phonemize": (c_int, [_P, c_char_p, c_char_p, c_char_p, c_size_t, POINTER(c_void_p),
                                 c_char_p, c_size_t]),
    "chorus_detect_language": (c_char_p, [c_char_p, c_size_t, POINTER(c_double)]),
}


def _candidates() -> list:
    """Where the library is looked for, in order (docs: bindings/python/README.md)."""
    found = []
    env = os.environ.get("CHORUS_LIBRARY")
    if env:
        return [env]  # named explicitly: that file or nothing
    here = os.path.dirname(os.path.abspath(__file__))
    for name in (SONAME, "libchorus.so"):
        path = os.path.join(here, name)
        if os.path.exists(path):
            found.append(path)
    found.append(SONAME)  # the dynamic loader's search: ld.so.cache, LD_LIBRARY_PATH
    lib = ctypes.util.find_library("chorus")
    if lib:
        found.append(lib)
    return found


def _load() -> ctypes.CDLL:
    errors = []
    for cand in _candidates():
        try:
            lib = ctypes.CDLL(cand)
        except OSError as exc:
            errors.append("%s: %s" % (cand, exc))
            continue
        missing = [n for n in _SIGNATURES if not hasattr(lib, n)]
        if missing:
            errors.append("%s: not a libchorus with this API (missing %s)" % (cand, missing[0]))
            continue
        for name, (restype, argtypes) in _SIGNATURES.items():
            fn = getattr(lib, name)
            fn.restype = restype
            fn.argtypes = argtypes
        return lib
    raise ImportError(
        "chorus: cannot load libchorus (%s). Build it (make build) and set "
        "CHORUS_LIBRARY=/path/to/build/libchorus.so, or install it (make install; ldconfig)"
        % "; ".join(errors))


lib = _load()


def status_name(status: int) -> str:
    return lib.chorus_status_name(status).decode()


def strerror(status: int) -> str:
    return lib.chorus_strerror(status).decode()


def text(ptr: Optional[bytes]) -> Optional[str]:
    """A C string the library returned, as str (None stays None)."""
    return None if ptr is None else ptr.decode("utf-8", "replace")
