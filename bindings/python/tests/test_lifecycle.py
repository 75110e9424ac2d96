# SPDX-License-Identifier: GPL-3.0-or-later
"""Cancellation (another thread, asyncio), garbage collection, closing, memory, admission,
and argument checking that happens before any C call."""
import asyncio
import gc
import os
import threading

import pytest

import chorus
from chorus import _engine
from conftest import rss_kib, wait_for

LONG = " ".join("Sentence number %d is here to make the stream long enough to cancel." % i
                for i in range(40))


def no_slots(engine):
    st = engine.stats()
    return st.active == 0 and st.queued == 0


def test_cancel_from_another_thread(engine):
    s = engine.stream(LONG, backend="espeak", format="pcm")
    first = next(s)
    assert first.data
    t = threading.Thread(target=s.cancel)
    t.start()
    t.join()
    got = 0
    with pytest.raises(chorus.Cancelled) as ei:
        for _ in s:
            got += 1
    assert ei.value.name == "E_CANCELLED"
    assert got < 10  # stopped promptly, not after the whole text
    s.close()
    assert wait_for(lambda: no_slots(engine))


def test_cancel_while_another_thread_waits_in_receive(engine):
    """The reader blocks inside chorus_stream_receive (GIL released); close() from here wakes it."""
    s = engine.stream(LONG, backend="espeak", format="pcm")
    next(s)
    errors = []

    def reader():
        try:
            for _ in s:
                pass
        except chorus.ChorusError as e:
            errors.append(e)

    t = threading.Thread(target=reader)
    t.start()
    s.close()
    t.join(60)
    assert not t.is_alive()
    assert s.closed
    assert len(errors) == 1 and isinstance(errors[0], chorus.Cancelled)
    assert wait_for(lambda: no_slots(engine))


def test_asyncio_cancellation(engine):
    got = []

    async def consume(first_seen):
        async for chunk in engine.astream(LONG, backend="espeak", format="pcm"):
            got.append(chunk)
            first_seen.set()

    async def main():
        first_seen = asyncio.Event()
        task = asyncio.create_task(consume(first_seen))
        await first_seen.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert 1 <= len(got) < 20
    assert wait_for(lambda: no_slots(engine))
    assert not engine._h.streams  # the stream was destroyed, not left to the GC


def test_astream_keeps_the_loop_running(engine):
    async def main():
        ticks = 0
        stop = False

        async def ticker():
            nonlocal ticks
            while not stop:
                ticks += 1
                await asyncio.sleep(0)

        t = asyncio.create_task(ticker())
        chunks = [c async for c in engine.astream(LONG[:600], backend="espeak", format="pcm")]
        stop = True
        await t
        return chunks, ticks

    chunks, ticks = asyncio.run(main())
    assert len(chunks) > 3 and chunks[-1].percent == 100.0
    assert ticks > len(chunks)  # the loop ran between the awaits


def test_async_with_and_cancel_method(engine):
    async def main():
        async with engine.astream(LONG, backend="espeak") as a:
            n = 0
            with pytest.raises(chorus.Cancelled):
                async for _ in a:
                    n += 1
                    if n == 2:
                        a.cancel()
        return a

    a = asyncio.run(main())
    assert a.stream.closed and no_slots(engine)


def test_gc_closes_streams_and_frees_slots(engine):
    s = engine.stream(LONG, backend="espeak")
    next(s)
    assert engine.stats().active == 1
    del s
    gc.collect()
    assert wait_for(lambda: no_slots(engine))
    assert not engine._h.streams
    # a stream in a reference cycle is freed by the cycle collector
    s = engine.stream(LONG, backend="espeak")
    next(s)
    s.me = s
    del s
    gc.collect()
    assert wait_for(lambda: no_slots(engine)) and not engine._h.streams


def test_engine_gc_and_close_with_open_streams():
    e = chorus.Engine(no_config=True)
    s = e.stream(LONG, backend="espeak")
    next(s)
    e.close()  # closes the stream first (C: streams before their engine)
    assert s.closed
    with pytest.raises(chorus.Cancelled):
        next(s)
    with pytest.raises(ValueError, match="closed"):
        e.say("Hello.")
    # an engine and its stream in one garbage cycle: collected without a use-after-free
    e = chorus.Engine(no_config=True)
    s = e.stream(LONG, backend="espeak")
    next(s)
    s.engine_ref, e.stream_ref = e, s
    del e, s
    gc.collect()


SANITIZED = bool(os.environ.get("LD_PRELOAD"))  # ctest.sh preloads ASan in that build


def test_a_thousand_short_requests_do_not_grow_rss(engine):
    # Under ASan, RSS measures its allocator's quarantine, not chorus: that build runs a
    # hundred requests for the sanitizer's sake and checks the counters only.
    n = 100 if SANITIZED else 1000
    for _ in range(100):
        engine.say("Hi.", backend="espeak", format="pcm")
    gc.collect()
    before = rss_kib()
    for i in range(n):
        assert engine.say("Hi %d." % i, backend="espeak", format="pcm")
        if i % 10 == 0:  # and as many streams dropped half-read, left to the GC
            s = engine.stream("Dropped %d. " % i * 20, backend="espeak", format="pcm")
            next(s)
            del s
    gc.collect()
    grown = rss_kib() - before
    if not SANITIZED:
        assert grown < 4096, "RSS grew by %d KiB over %d requests" % (grown, n)
    assert no_slots(engine) and not engine._h.streams
    assert engine.stats().started_total >= 100 + n + n // 10


def test_threads_share_an_engine(engine):
    out = {}

    def work(i):
        out[i] = engine.say("Thread %d speaks." % i, backend="espeak", format="pcm")

    ts = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert len(out) == 6 and all(len(v) > 10000 for v in out.values())
    assert no_slots(engine)


class _NoC:
    """Stands in for the ctypes library: any C call fails the test."""
    def __getattr__(self, name):
        raise AssertionError("C function %s was called for a bad argument" % name)


@pytest.mark.parametrize("call,exc", [
    (lambda e: e.say(None), TypeError),
    (lambda e: e.say(b"bytes"), TypeError),
    (lambda e: e.say(42), TypeError),
    (lambda e: e.say(""), ValueError),
    (lambda e: e.say("   \n"), ValueError),
    (lambda e: e.say("a\0b"), ValueError),
    (lambda e: e.say("\ud800 lone surrogate"), ValueError),
    (lambda e: e.say("x", speed=10), ValueError),
    (lambda e: e.say("x", speed=0.1), ValueError),
    (lambda e: e.say("x", speed=float("nan")), ValueError),
    (lambda e: e.say("x", speed="fast"), TypeError),
    (lambda e: e.say("x", speed=True), TypeError),
    (lambda e: e.say("x", format="wma"), ValueError),
    (lambda e: e.say("x", format=3), TypeError),
    (lambda e: e.say("x", sample_rate=-1), ValueError),
    (lambda e: e.say("x", sample_rate=22050.0), TypeError),
    (lambda e: e.say("x", volume=100), ValueError),
    (lambda e: e.say("x", voice=123), TypeError),
    (lambda e: e.say("x", voice="v" * 5000), ValueError),
    (lambda e: e.say("x", backend="es\0peak"), ValueError),
    (lambda e: e.say("x", input="html"), ValueError),
    (lambda e: e.say("x", options=[("pitch", 1)]), TypeError),
    (lambda e: e.say("x", options={"pitch": None}), TypeError),
    (lambda e: e.say("x", options={1: "a"}), TypeError),
    (lambda e: e.say("x", normalize="no"), TypeError),
    (lambda e: e.say("x", normalize_options=5), TypeError),
    (lambda e: e.say("x", cache=None), TypeError),
    (lambda e: e.stream("x", samples=1), TypeError),
    (lambda e: e.astream(None), TypeError),
    (lambda e: e.synthesize_file(None, "x"), TypeError),
    (lambda e: e.synthesize_file("a\0.wav", "x"), ValueError),
    (lambda e: e.synthesize_file("a.wav", "x", progress=5), TypeError),
    (lambda e: e.voices(backend=7), TypeError),
    (lambda e: e.options(backend=b"espeak"), TypeError),
    (lambda e: e.phonemize(""), ValueError),
    (lambda e: e.estimate(3), TypeError),
    (lambda e: e.set_admission(0), ValueError),
    (lambda e: e.set_admission("4"), TypeError),
    (lambda e: e.say("x", bogus=1), TypeError),
])
def test_bad_arguments_raise_before_c(engine, monkeypatch, call, exc):
    monkeypatch.setattr(_engine, "L", _NoC())
    with pytest.raises(exc):
        call(engine)


def test_bad_engine_options_raise_before_c(monkeypatch):
    monkeypatch.setattr(_engine, "L", _NoC())
    for kw, exc in [({"bogus": 1}, TypeError), ({"max_concurrent": "4"}, TypeError),
                    ({"max_concurrent": 5000}, ValueError), ({"no_config": 1}, TypeError),
                    ({"config": 3}, TypeError), ({"config": ""}, ValueError)]:
        with pytest.raises(exc):
            chorus.Engine(**kw)
