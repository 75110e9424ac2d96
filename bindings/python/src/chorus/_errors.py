# SPDX-License-Identifier: GPL-3.0-or-later
"""Exceptions: every libchorus failure raises ChorusError (or a subclass) carrying the status."""
from __future__ import annotations

from typing import Dict, Type

from . import _lib


class ChorusError(Exception):
    """A libchorus call failed.

    Attributes:
        status: the C status code (a negative ``enum chorus_status`` value, e.g. -6).
        name: its name without prefix, as ``chorus_status_name()`` gives it ("E_UNKNOWN_VOICE").
        message: the library's actionable message: what failed, on what, and what to do.
    """

    def __init__(self, status: int, message: str = "") -> None:
        self.status = status
        self.name = _lib.status_name(status)
        self.message = message or _lib.strerror(status)
        super().__init__("%s: %s" % (self.name, self.message))


class Cancelled(ChorusError):
    """The stream was cancelled (Stream.cancel() from any thread, or asyncio cancellation)."""


class Busy(ChorusError):
    """E_BUSY: the engine's admission limits refused the generation (too many at once)."""


class Unavailable(ChorusError):
    """E_UNAVAILABLE: the backend cannot run here (the message says why and what to do)."""


_BY_NAME: Dict[str, Type[ChorusError]] = {
    "E_CANCELLED": Cancelled, "E_BUSY": Busy, "E_UNAVAILABLE": Unavailable,
}


def error(status: int, message: str = "") -> ChorusError:
    """The exception for a status code and the library's message."""
    cls = _BY_NAME.get(_lib.status_name(status), ChorusError)
    return cls(status, message)
