# SPDX-License-Identifier: GPL-3.0-or-later
"""chorus.Engine and chorus.Stream: the library's engine and pull-mode streams.

Threads and the GIL: every libchorus call goes through ctypes.CDLL, which releases the GIL for
the call's duration, so syntheses in several Python threads run in parallel and a long
chorus_stream_receive() never stalls other threads. The only call back into Python is
synthesize_file(progress=...): ctypes takes the GIL again for each callback, on the thread
running the synthesis (the caller's).

Lifetimes: the C rules are "destroy every stream before its engine" and "a stream belongs to one
thread, except cancel". The Python objects keep them whatever the caller does: a Stream holds
its Engine alive; Engine.close() (or the garbage collector) first cancels and destroys the
streams still open; a stream's C handle is used under a lock, so cancel() from any thread or a
close() while another thread waits in receive is safe.
"""
from __future__ import annotations

import bisect
import ctypes
import math
import threading
from array import array
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterator, List, Mapping, Optional, Union

from . import _args, _lib
from ._errors import error
from ._types import (Backend, CacheStats, Chunk, EngineStats, Estimate, OptionInfo, Voice,
                     WordTiming)

if TYPE_CHECKING:
    from ._async import AsyncStream

L = _lib.lib
ERRBUF = 1024
# How long one chorus_stream_receive() waits before Python gets control back (to see Ctrl-C and
# let Engine.close() in): ms. The wait is a condition variable in C, so this costs nothing.
RECEIVE_SLICE_MS = 200
_AGAIN = object()  # _receive_raw(): nothing came in time


def _errbuf() -> ctypes.Array:
    return ctypes.create_string_buffer(ERRBUF)


class _Offsets:
    """Maps UTF-8 byte offsets of the request's text to indices of the caller's str."""

    def __init__(self, text: str, nbytes: int) -> None:
        self.text = text
        self.nbytes = nbytes
        self._starts: Optional[List[int]] = None if text.isascii() else []

    def char(self, byte_off: int) -> int:
        if self._starts is None:
            return min(byte_off, len(self.text))
        if not self._starts:
            acc, starts = 0, []
            for ch in self.text:
                starts.append(acc)
                acc += len(ch.encode("utf-8", "surrogatepass"))
            self._starts = starts
        return bisect.bisect_right(self._starts, byte_off) - 1 if byte_off < self.nbytes else len(self.text)


class _Request:
    """A chorus_request built from checked Python arguments; keeps its strings alive."""

    def __init__(self, text: str, backend: Optional[str], voice: Optional[str],
                 model: Optional[str], language: Optional[str], format: Optional[str],
                 speed: Optional[float], sample_rate: Optional[int], volume: Optional[float],
                 input: str, options: Optional[Mapping[str, Any]], normalize: bool,
                 normalize_options: Any, cache: bool, samples: bool = True) -> None:
        # every argument is checked before the first C call
        tb = _args.speech_text(text)
        fields = dict(backend=_args.name(backend, "backend"), voice=_args.name(voice, "voice"),
                      model=_args.name(model, "model"),
                      language=_args.name(language, "language"),
                      format=_args.audio_format(format),
                      sample_rate=_args.integer(sample_rate, "sample_rate", 0, 768000),
                      input=_args.input_kind(input),
                      normalize_options=_args.normalize_options(normalize_options))
        if speed is not None:
            fields["speed"] = _args.number(speed, "speed", 0.25, 4.0)
        if volume is not None:
            fields["volume"] = _args.number(volume, "volume", 0.0, 64.0)
        arr, n, self._keep = _args.options(options)
        flags = 0
        if not _args.flag(normalize, "normalize"):
            flags |= _lib.FLAG_NO_NORMALIZE
        if not _args.flag(cache, "cache"):
            flags |= _lib.FLAG_NO_CACHE
        if not _args.flag(samples, "samples"):
            flags |= _lib.FLAG_NO_SAMPLES
        self.offsets = _Offsets(text, len(tb))
        r = _lib.Request()
        L.chorus_request_init(ctypes.byref(r), ctypes.sizeof(r))  # the C defaults
        r.text = tb
        r.text_len = len(tb)
        for k, v in fields.items():
            setattr(r, k, v)
        if arr is not None:
            r.options = ctypes.cast(arr, ctypes.POINTER(_lib.Option))
            r.n_options = n
            self._keep.append(arr)
        r.flags = flags
        self.c = r


class _EngineHandle:
    """The C engine pointer, its users, and the streams open on it."""

    def __init__(self, ptr: int) -> None:
        self.ptr: Optional[int] = ptr
        # reentrant: a garbage collection inside a locked section may close another stream
        self.cv = threading.Condition(threading.RLock())
        self.users = 0
        self.closing = False
        self.streams: Dict[int, "_StreamHandle"] = {}

    def enter(self) -> int:
        with self.cv:
            if self.ptr is None or self.closing:
                raise ValueError("the engine is closed")
            self.users += 1
            return self.ptr

    def leave(self) -> None:
        with self.cv:
            self.users -= 1
            if self.users == 0:
                self.cv.notify_all()

    def close(self) -> None:
        with self.cv:
            if self.ptr is None or self.closing:
                return
            self.closing = True  # enter() refuses from now on
            streams = list(self.streams.values())
        for s in streams:  # cancel first: a stream being opened or read ends promptly
            s.close()
        with self.cv:
            while self.users:
                self.cv.wait()
            streams = list(self.streams.values())  # opened while we waited
        for s in streams:
            s.close()
        with self.cv:
            ptr, self.ptr = self.ptr, None
        if ptr is not None:
            L.chorus_engine_destroy(ptr)


class _StreamHandle:
    """The C stream pointer. `rlock` serializes receive/destroy; `hlock` guards the pointer."""

    def __init__(self, engine: _EngineHandle, ptr: int) -> None:
        self.engine = engine
        self.ptr: Optional[int] = ptr
        self.rlock = threading.Lock()
        self.hlock = threading.Lock()

    def cancel(self) -> None:
        with self.hlock:
            if self.ptr is not None:
                L.chorus_stream_cancel(self.ptr)

    def close(self) -> None:
        self.cancel()
        with self.rlock:
            with self.hlock:
                ptr, self.ptr = self.ptr, None
            if ptr is not None:
                L.chorus_stream_destroy(ptr)
                with self.engine.cv:
                    self.engine.streams.pop(id(self), None)


class Stream:
    """A synthesis in progress (pull mode): iterate it for :class:`Chunk` objects.

    Made by :meth:`Engine.stream`. The generation runs on the library's worker thread and stays
    a few chunks ahead of the reader (memory stays bounded). Iterating ends at the end of the
    stream, or raises :class:`ChorusError` (:class:`Cancelled` after :meth:`cancel`). Close it
    (``with`` or :meth:`close`) to stop early; the garbage collector closes a forgotten one.
    """

    def __init__(self, engine: "Engine", req: _Request) -> None:
        self._engine = engine  # keeps the engine alive while the stream is
        self._offsets = req.offsets
        self._samples = not (req.c.flags & _lib.FLAG_NO_SAMPLES)
        self._done = False
        self._spoken = 0  # bytes of input spoken so far (chunks' spans only grow)
        self._h: Optional[_StreamHandle] = None
        eh = engine._h
        eptr = eh.enter()
        try:
            out = ctypes.c_void_p()
            rc = L.chorus_stream_open(eptr, ctypes.byref(req.c), ctypes.byref(out))
            if rc != _lib.OK:
                if out.value:
                    msg = _lib.text(L.chorus_stream_errmsg(out.value))
                    L.chorus_stream_destroy(out.value)
                else:
                    msg = _lib.text(L.chorus_engine_errmsg(eptr))
                raise error(rc, msg or "")
            h = _StreamHandle(eh, out.value)
            with eh.cv:
                eh.streams[id(h)] = h
            self._h = h
        finally:
            eh.leave()

    # -- information ---------------------------------------------------------------------
    def _ptr(self) -> int:
        if self._h is None or self._h.ptr is None:
            raise ValueError("the stream is closed")  # like a closed file's methods
        return self._h.ptr

    @property
    def backend(self) -> str:
        """The backend that speaks (after defaults and aliases)."""
        return _lib.text(L.chorus_stream_backend(self._ptr())) or ""

    @property
    def voice(self) -> str:
        """The voice that speaks (after defaults and aliases)."""
        return _lib.text(L.chorus_stream_voice(self._ptr())) or ""

    @property
    def sample_rate(self) -> int:
        """The output sample rate in Hz."""
        return int(L.chorus_stream_sample_rate(self._ptr()))

    # -- pulling -------------------------------------------------------------------------
    def _receive_raw(self, timeout_ms: int) -> Any:
        """One chorus_stream_receive(): a chunk pointer, None at EOF, or _AGAIN."""
        h = self._h
        if h is None:
            raise ValueError("the stream was not opened")
        out = ctypes.POINTER(_lib.Chunk)()
        with h.rlock:
            ptr = h.ptr
            if ptr is None:
                raise error(_lib.E_CANCELLED, "the stream was closed while it was being read")
            rc = L.chorus_stream_receive(ptr, ctypes.byref(out), timeout_ms)
            if rc == _lib.OK:
                return out
            if rc == _lib.EOF:
                self._done = True
                return None
            if rc == _lib.AGAIN:
                return _AGAIN
            msg = _lib.text(L.chorus_stream_errmsg(ptr)) or ""
        self._done = True
        raise error(rc, msg)

    def _convert(self, cp: Any) -> Chunk:
        try:
            c = cp.contents
            n = c.n_samples
            data = ctypes.string_at(c.data, c.data_len) if c.data_len else b""
            samples = None
            if self._samples and c.samples and n:
                samples = array("f")  # one copy, straight from the library's buffer
                samples.frombytes((ctypes.c_char * (n * 4)).from_address(
                    ctypes.addressof(c.samples.contents)))
            off = self._offsets
            words = []
            for i in range(c.n_words):
                w = c.words[i]
                a, b = off.char(w.text_offset), off.char(w.text_offset + w.text_len)
                words.append(WordTiming(off.text[a:b], w.start, w.end, a, b - a))
            a, b = off.char(c.text_offset), off.char(c.text_offset + c.text_len)
            rate = c.sample_rate
            self._spoken = done = max(self._spoken, c.text_offset + c.text_len)
            return Chunk(index=c.index, data=data, samples=samples, sample_rate=rate,
                         start_time=c.start_time,
                         duration=n / rate if rate > 0 else 0.0,
                         text_offset=a, text_len=b - a,
                         percent=100.0 * min(done, off.nbytes) / off.nbytes if off.nbytes else 100.0,
                         words=tuple(words))
        finally:
            L.chorus_chunk_free(cp)

    def receive(self, timeout: Optional[float] = None) -> Optional[Chunk]:
        """The next chunk, waiting up to ``timeout`` seconds (None: until one comes).

        Returns None at the end of the stream, raises TimeoutError when nothing came in time,
        or the stream's ChorusError.
        """
        if timeout is not None:
            _args.number(timeout, "timeout", 0.0, math.inf)
            if timeout > 2 ** 31 / 1000:
                timeout = None
        if self._done:
            return None
        while True:
            slice_ms = RECEIVE_SLICE_MS
            if timeout is not None:
                slice_ms = min(slice_ms, int(timeout * 1000))
                timeout -= slice_ms / 1000.0
            r = self._receive_raw(slice_ms)
            if r is None:
                return None
            if r is not _AGAIN:
                return self._convert(r)
            if timeout is not None and timeout <= 0:
                raise TimeoutError("no audio from the stream in time")

    def __iter__(self) -> Iterator[Chunk]:
        return self

    def __next__(self) -> Chunk:
        c = self.receive()
        if c is None:
            raise StopIteration
        return c

    def final_header(self) -> bytes:
        """After the last chunk: the bytes to write over the start of the output (the exact WAV
        header, or an MP3's Info frame); b"" when the format needs no rewrite."""
        buf = ctypes.create_string_buffer(_lib.FINAL_HEADER_MAX)
        n = ctypes.c_size_t()
        ptr = self._ptr()
        rc = L.chorus_stream_final_header(ptr, buf, len(buf), ctypes.byref(n))
        if rc != _lib.OK:
            raise error(rc, _lib.text(L.chorus_stream_errmsg(ptr)) or "")
        return buf.raw[:n.value]

    # -- stopping ------------------------------------------------------------------------
    def cancel(self) -> None:
        """Ask the stream to stop; safe from any thread. The reader gets :class:`Cancelled`."""
        if self._h is not None:
            self._h.cancel()

    def close(self) -> None:
        """Cancel if still running and free the stream (idempotent). A thread still reading
        it gets :class:`Cancelled`; so does reading it afterwards."""
        if self._h is not None:
            self._h.close()

    @property
    def closed(self) -> bool:
        return self._h is None or self._h.ptr is None

    def __enter__(self) -> "Stream":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        h = getattr(self, "_h", None)
        if h is not None:
            h.close()


class Engine:
    """A libchorus engine: configuration, backends, the generation limiter, the cache.

    ``Engine(config=None, **options)``: ``config`` is the config file to read (None: as the CLI,
    $CHORUS_CONFIG, else ~/.config/chorus/config.toml). ``options`` are chorus_engine_options'
    fields: ``no_config`` (bool), ``max_concurrent``, ``max_queue``, ``queue_timeout_ms`` (int;
    0: the config's value or the default). Use it as a context manager, or call :meth:`close`;
    one engine may be shared by any number of threads.
    """

    _OPTIONS = ("no_config", "max_concurrent", "max_queue", "queue_timeout_ms")

    def __init__(self, config: Optional[_args.StrPath] = None, **options: Any) -> None:
        self._h: Optional[_EngineHandle] = None
        fields: Dict[str, Any] = {}
        if config is not None:
            fields["config_path"] = _args.path(config, "config")
        for k, v in options.items():
            if k not in self._OPTIONS:
                raise TypeError("Engine() got an unexpected keyword argument %r (options: %s)"
                                % (k, ", ".join(self._OPTIONS)))
            if k == "no_config":
                fields[k] = int(_args.flag(v, k))
            elif k == "max_concurrent":
                fields[k] = _args.integer(v, k, 0, 1024)
            elif k == "max_queue":
                fields[k] = _args.integer(v, k, -1, 2 ** 31 - 1)
            else:
                fields[k] = _args.integer(v, k, 0, 2 ** 31 - 1)
        o = _lib.EngineOptions()
        L.chorus_engine_options_init(ctypes.byref(o), ctypes.sizeof(o))  # the C defaults
        for k, v in fields.items():
            setattr(o, k, v)
        out = ctypes.c_void_p()
        eb = _errbuf()
        rc = L.chorus_engine_create2(ctypes.byref(out), ctypes.byref(o), eb, len(eb))
        if rc != _lib.OK:
            raise error(rc, eb.value.decode("utf-8", "replace"))
        self._h = _EngineHandle(out.value)

    # -- lifetime ------------------------------------------------------------------------
    def close(self) -> None:
        """Cancel and close this engine's open streams, then destroy it (idempotent)."""
        h = self._h
        if h is not None:
            h.close()

    @property
    def closed(self) -> bool:
        return self._h is None or self._h.ptr is None

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        h = getattr(self, "_h", None)
        if h is not None:
            h.close()

    def _call(self, fn: Callable[[int], Any]) -> Any:
        """Run fn(engine pointer) with the engine held open."""
        h = self._h
        if h is None:
            raise ValueError("the engine is closed")
        ptr = h.enter()
        try:
            return fn(ptr)
        finally:
            h.leave()

    def _check(self, ptr: int, rc: int) -> None:
        if rc != _lib.OK:
            raise error(rc, _lib.text(L.chorus_engine_errmsg(ptr)) or "")

    # -- synthesis -----------------------------------------------------------------------
    def stream(self, text: str, *, backend: Optional[str] = None, voice: Optional[str] = None,
               model: Optional[str] = None, language: Optional[str] = None,
               format: Optional[str] = None, speed: Optional[float] = None,
               sample_rate: Optional[int] = None, volume: Optional[float] = None,
               input: str = "text", options: Optional[Mapping[str, _args.OptionValue]] = None,
               normalize: bool = True, normalize_options: Union[str, Mapping[str, bool], None] = None,
               cache: bool = True, samples: bool = True) -> Stream:
        """Open a stream: iterate it for :class:`Chunk` objects as the engine produces them.

        Arguments are chorus_request's fields, named as ``chorus say``'s options: backend
        (None: the default backend), voice, model, language, format ("wav", "pcm", "mp3",
        "opus", "flac", "aac"; None: wav), speed (0.25 to 4.0; None: 1.0), sample_rate (Hz;
        None: the format's or engine's), volume (linear gain up to 64; None: 1.0), input
        ("text", "ssml" or "phonemes"), options (backend options, see :meth:`options`),
        normalize (False: speak the text as written), normalize_options ("key=value,..." or a
        dict of Kokoro-FastAPI's switch names), cache (False: bypass the audio cache), samples
        (False: chunks carry encoded bytes only, no float PCM).

        Raises TypeError/ValueError for bad arguments (before any C call), ChorusError when
        the library refuses the request (unknown voice, backend unavailable...).
        """
        return Stream(self, _Request(text, backend, voice, model, language, format, speed,
                                     sample_rate, volume, input, options, normalize,
                                     normalize_options, cache, samples))

    def say(self, text: str, *, backend: Optional[str] = None, voice: Optional[str] = None,
            model: Optional[str] = None, language: Optional[str] = None,
            format: Optional[str] = None, speed: Optional[float] = None,
            sample_rate: Optional[int] = None, volume: Optional[float] = None,
            input: str = "text", options: Optional[Mapping[str, _args.OptionValue]] = None,
            normalize: bool = True, normalize_options: Union[str, Mapping[str, bool], None] = None,
            cache: bool = True) -> bytes:
        """Speak ``text`` and return the whole encoded audio (a complete file: a WAV has its
        exact sizes). Arguments as :meth:`stream`."""
        req = _Request(text, backend, voice, model, language, format, speed, sample_rate,
                       volume, input, options, normalize, normalize_options, cache, False)
        with Stream(self, req) as s:
            parts = []
            while True:
                cp = s._receive_raw(RECEIVE_SLICE_MS)
                if cp is None:
                    break
                if cp is _AGAIN:
                    continue
                try:
                    c = cp.contents
                    if c.data_len:
                        parts.append(ctypes.string_at(c.data, c.data_len))
                finally:
                    L.chorus_chunk_free(cp)
            audio = b"".join(parts)
            head = s.final_header()
        if head:
            audio = head + audio[len(head):]
        return audio

    def astream(self, text: str, *, backend: Optional[str] = None,
                voice: Optional[str] = None, model: Optional[str] = None,
                language: Optional[str] = None, format: Optional[str] = None,
                speed: Optional[float] = None, sample_rate: Optional[int] = None,
                volume: Optional[float] = None, input: str = "text",
                options: Optional[Mapping[str, _args.OptionValue]] = None,
                normalize: bool = True,
                normalize_options: Union[str, Mapping[str, bool], None] = None,
                cache: bool = True, samples: bool = True) -> "AsyncStream":
        """:meth:`stream` for asyncio: ``async for chunk in engine.astream(text, ...)``.

        The request is checked and opened at once (errors raise here); chunks are awaited
        without blocking the event loop. Cancelling the iterating task cancels and closes the
        stream."""
        from ._async import AsyncStream
        return AsyncStream(self.stream(text, backend=backend, voice=voice, model=model,
                                       language=language, format=format, speed=speed,
                                       sample_rate=sample_rate, volume=volume, input=input,
                                       options=options, normalize=normalize,
                                       normalize_options=normalize_options, cache=cache,
                                       samples=samples))

    def synthesize_file(self, path: _args.StrPath, text: str, *, backend: Optional[str] = None,
                        voice: Optional[str] = None, model: Optional[str] = None,
                        language: Optional[str] = None, format: Optional[str] = None,
                        speed: Optional[float] = None, sample_rate: Optional[int] = None,
                        volume: Optional[float] = None, input: str = "text",
                        options: Optional[Mapping[str, _args.OptionValue]] = None,
                        normalize: bool = True,
                        normalize_options: Union[str, Mapping[str, bool], None] = None,
                        cache: bool = True,
                        progress: Optional[Callable[[float], Any]] = None) -> None:
        """Speak ``text`` into the file ``path``, atomically (a temporary file renamed over it on
        success; nothing is left on failure). format None: from the path's extension, else wav.
        ``progress``, if given, is called with the percent done (0..100) as the engine goes, on
        this thread (ctypes takes the GIL for each call); an exception it raises cancels the
        synthesis and is raised here."""
        p = _args.path(path)
        if progress is not None and not callable(progress):
            raise TypeError("progress must be callable, not %s" % type(progress).__name__)
        req = _Request(text, backend, voice, model, language, format, speed, sample_rate,
                       volume, input, options, normalize, normalize_options, cache, False)
        failure: List[BaseException] = []

        def on_event(ev: Any, _ud: Any) -> int:
            try:
                e = ev.contents
                if e.type == 4 and e.progress:  # CHORUS_EVENT_PROGRESS
                    progress(e.progress.contents.percent)  # type: ignore[misc]
                return 0
            except BaseException as exc:  # noqa: BLE001 - handed back to the caller below
                failure.append(exc)
                return 1

        cb = _lib.CALLBACK(on_event) if progress is not None else None
        if cb is not None:
            req.c.callback = cb

        def run(ptr: int) -> None:
            eb = _errbuf()
            rc = L.chorus_synthesize_file(ptr, ctypes.byref(req.c), p, eb, len(eb))
            if failure:
                raise failure[0]
            if rc != _lib.OK:
                raise error(rc, eb.value.decode("utf-8", "replace"))
        self._call(run)

    def estimate(self, text: str, *, backend: Optional[str] = None, voice: Optional[str] = None,
                 model: Optional[str] = None, format: Optional[str] = None,
                 speed: Optional[float] = None, input: str = "text") -> Estimate:
        """What speaking ``text`` would cost (nothing is sent): see :class:`Estimate`."""
        req = _Request(text, backend, voice, model, None, format, speed, None, None, input,
                       None, True, None, True)

        def run(ptr: int) -> Estimate:
            est = _lib.Estimate()
            est.size = ctypes.sizeof(est)
            self._check(ptr, L.chorus_estimate(ptr, ctypes.byref(req.c), ctypes.byref(est)))
            t = _lib.text
            return Estimate(t(est.backend), t(est.provider), t(est.model), est.characters,
                            est.input_tokens, est.output_tokens, est.credits, est.usd,
                            t(est.basis))
        return self._call(run)

    # -- text ----------------------------------------------------------------------------
    def phonemize(self, text: str, *, backend: Optional[str] = None,
                  voice: Optional[str] = None) -> str:
        """The phonemes ``backend`` would speak for ``text``, in its phoneme input's notation."""
        tb = _args.speech_text(text)
        bb = _args.name(backend, "backend")
        vb = _args.name(voice, "voice")

        def run(ptr: int) -> str:
            out = ctypes.c_void_p()
            eb = _errbuf()
            rc = L.chorus_phonemize(ptr, bb, vb, tb, len(tb), ctypes.byref(out), eb, len(eb))
            if rc != _lib.OK:
                raise error(rc, eb.value.decode("utf-8", "replace"))
            try:
                return ctypes.string_at(out.value).decode("utf-8", "replace")
            finally:
                L.chorus_free(out)
        return self._call(run)

    def normalize(self, text: str, *, options: Union[str, Mapping[str, bool], None] = None,
                  lang: Optional[str] = None) -> str:
        """As :func:`chorus.normalize` (the engine is not needed; here for convenience)."""
        return normalize(text, options=options, lang=lang)

    # -- discovery -----------------------------------------------------------------------
    def backends(self) -> List[Backend]:
        """Every registered backend, probed: ``available``, and ``reason`` when it is not."""
        def run(ptr: int) -> List[Backend]:
            arr = ctypes.POINTER(_lib.BackendInfo)()
            n = ctypes.c_size_t()
            self._check(ptr, L.chorus_list_backends(ptr, ctypes.byref(arr), ctypes.byref(n)))
            try:
                t = _lib.text
                return [Backend(t(b.name) or "", t(b.pattern), t(b.description) or "",
                                tuple(v for k, v in _lib.CAPABILITIES.items() if b.caps & k),
                                bool(b.available), t(b.reason), b.max_input_chars,
                                b.sample_rate)
                        for b in (arr[i] for i in range(n.value))]
            finally:
                L.chorus_backend_infos_free(arr, n)
        return self._call(run)

    def voices(self, backend: Optional[str] = None) -> List[Voice]:
        """The voices of ``backend`` (None: the default backend)."""
        bb = _args.name(backend, "backend")

        def run(ptr: int) -> List[Voice]:
            arr = ctypes.POINTER(_lib.Voice)()
            n = ctypes.c_size_t()
            self._check(ptr, L.chorus_list_voices(ptr, bb, ctypes.byref(arr), ctypes.byref(n)))
            try:
                t = _lib.text
                return [Voice(t(v.id) or "", t(v.name), t(v.language), t(v.gender),
                              t(v.backend), t(v.description))
                        for v in (arr[i] for i in range(n.value))]
            finally:
                L.chorus_voices_free(arr, n)
        return self._call(run)

    def options(self, backend: Optional[str] = None) -> List[OptionInfo]:
        """The options ``backend`` (None: the default) takes through ``options={...}``."""
        bb = _args.name(backend, "backend")

        def run(ptr: int) -> List[OptionInfo]:
            arr = ctypes.POINTER(_lib.OptionDesc)()
            n = ctypes.c_size_t()
            self._check(ptr, L.chorus_backend_options(ptr, bb, ctypes.byref(arr), ctypes.byref(n)))
            t = _lib.text
            out = []
            for i in range(n.value):
                d = arr[i]
                bounded = d.min <= d.max
                out.append(OptionInfo(t(d.key) or "", t(d.type) or "", t(d.def_),
                                      d.min if bounded else None, d.max if bounded else None,
                                      (t(d.values) or "").split("|") if d.values else [],
                                      t(d.help)))
            return out
        return self._call(run)

    @property
    def default_backend(self) -> str:
        """The backend a request naming none gets."""
        return self._call(lambda p: _lib.text(L.chorus_engine_default_backend(p)) or "")

    @property
    def config_path(self) -> Optional[str]:
        """The config file that was read, or None."""
        return self._call(lambda p: _lib.text(L.chorus_engine_config_path(p)))

    def config(self, section: str, key: str) -> Optional[str]:
        """A value of the config ("section", "key"), or None if unset."""
        sb = _args.name(section, "section")
        kb = _args.name(key, "key")
        if sb is None or kb is None:
            raise TypeError("config() needs a section and a key (str)")
        return self._call(lambda p: _lib.text(L.chorus_engine_config(p, sb, kb)))

    # -- limiter and cache ---------------------------------------------------------------
    def stats(self) -> EngineStats:
        """The limiter now: max_concurrent, active and queued generations, started_total."""
        def run(ptr: int) -> EngineStats:
            st = _lib.EngineStats()
            st.size = ctypes.sizeof(st)
            self._check(ptr, L.chorus_engine_get_stats(ptr, ctypes.byref(st)))
            return EngineStats(st.max_concurrent, st.active, st.queued, st.started_total)
        return self._call(run)

    def set_admission(self, max_concurrent: int, max_queue: int = -1,
                      queue_timeout_ms: int = 0) -> None:
        """Change the admission limits (chorus_engine_set_admission): at most max_concurrent
        generations at once (1..1024), max_queue waiting (-1: unbounded, 0: none), each waiting
        at most queue_timeout_ms (0: no limit)."""
        mc = _args.integer(max_concurrent, "max_concurrent", 1, 1024)
        mq = _args.integer(max_queue, "max_queue", -1, 2 ** 31 - 1)
        qt = _args.integer(queue_timeout_ms, "queue_timeout_ms", 0, 2 ** 31 - 1)
        self._call(lambda p: self._check(p, L.chorus_engine_set_admission(p, mc, mq, qt)))

    def cache_stats(self) -> CacheStats:
        """The audio cache's counters for this engine and the shared index's size."""
        def run(ptr: int) -> CacheStats:
            st = _lib.CacheStats()
            st.size = ctypes.sizeof(st)
            self._check(ptr, L.chorus_engine_cache_stats(ptr, ctypes.byref(st)))
            return CacheStats(bool(st.enabled), _lib.text(st.dir), st.hits, st.misses,
                              st.corrupt, st.stores, st.entries, st.bytes, st.max_bytes,
                              st.hits_total)
        return self._call(run)


def normalize(text: str, *, options: Union[str, Mapping[str, bool], None] = None,
              lang: Optional[str] = None) -> str:
    """Normalize text for speech as streams do ("$12.50" -> "twelve dollars and fifty cents").
    ``options``: as ``normalize_options``; ``lang``: "en" (None) or another code."""
    tb = _args.speech_text(text)
    ob = _args.normalize_options(options)
    lb = _args.name(lang, "lang", 64)
    out = ctypes.c_void_p()
    eb = _errbuf()
    rc = L.chorus_normalize_text(tb, len(tb), ob, lb, ctypes.byref(out), None, eb, len(eb))
    if rc != _lib.OK:
        raise error(rc, eb.value.decode("utf-8", "replace"))
    try:
        return ctypes.string_at(out.value).decode("utf-8", "replace")
    finally:
        L.chorus_free(out)
