# SPDX-License-Identifier: GPL-3.0-or-later
"""asyncio over the pull API: ``async for chunk in engine.astream(...)``.

Each wait for a chunk runs chorus_stream_receive() in the event loop's default executor (a
thread; the GIL is released while it waits), so the loop keeps serving other tasks. Cancelling
the task that iterates (asyncio.CancelledError at the await) cancels the C stream, which wakes
the waiting thread at once, and closes the stream before the cancellation propagates: the
engine's slot is free when the task is done.
"""
from __future__ import annotations

import asyncio
from typing import Any, Optional

from ._engine import Stream, _AGAIN
from ._types import Chunk

# One executor wait (ms): bounds how long a worker thread is held per round trip.
ASYNC_SLICE_MS = 1000


class AsyncStream:
    """An asynchronous iterator of :class:`Chunk` over a :class:`Stream` (engine.astream)."""

    def __init__(self, stream: Stream) -> None:
        self._stream = stream

    @property
    def stream(self) -> Stream:
        """The underlying stream (backend, voice, sample_rate, cancel())."""
        return self._stream

    def _next(self) -> Any:
        r = self._stream._receive_raw(ASYNC_SLICE_MS)
        if r is None or r is _AGAIN:
            return r
        return self._stream._convert(r)

    def __aiter__(self) -> "AsyncStream":
        return self

    async def __anext__(self) -> Chunk:
        if self._stream._done or self._stream.closed:
            raise StopAsyncIteration
        loop = asyncio.get_running_loop()
        try:
            while True:
                r = await loop.run_in_executor(None, self._next)
                if r is None:
                    raise StopAsyncIteration
                if r is not _AGAIN:
                    return r
        except asyncio.CancelledError:
            # the executor thread may still wait in C: cancel wakes it; close() waits for it
            self._stream.close()
            raise

    def cancel(self) -> None:
        """Cancel the C stream (any thread); the iterating task gets :class:`chorus.Cancelled`."""
        self._stream.cancel()

    async def aclose(self) -> None:
        """Stop and free the stream."""
        self._stream.close()

    async def __aenter__(self) -> "AsyncStream":
        return self

    async def __aexit__(self, *exc: Optional[BaseException]) -> None:
        await self.aclose()
