# SPDX-License-Identifier: GPL-3.0-or-later
"""The plain Python values the API returns (copies: nothing here points into C memory)."""
from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from typing import List, Optional, Tuple


@dataclass(frozen=True)
class WordTiming:
    """One written word of the input and when it is spoken (chorus_word).

    ``offset``/``length`` index the Python ``str`` you passed (characters, not UTF-8 bytes);
    ``start``/``end`` are seconds in the audio as produced (see chorus.format_decode_delay()).
    The field names are those of ``chorus say --timestamps``.
    """
    word: str
    start: float
    end: float
    offset: int
    length: int


@dataclass
class Chunk:
    """A piece of a stream's audio (chorus_chunk), copied out of the library (a plain, not a
    frozen, dataclass: it is made for every chunk and frozen ones are slower to build).

    data: the encoded bytes in the stream's format (may be empty, e.g. while an encoder fills
    its first frame). samples: mono float PCM in [-1, 1] as ``array('f')``, or None when the
    stream was opened with samples=False. text_offset/text_len: the span of your input (str
    indices) this chunk speaks; percent: how much of the input is spoken once this chunk is
    played (0..100).
    """
    index: int
    data: bytes
    samples: Optional[array]
    sample_rate: int
    start_time: float
    duration: float
    text_offset: int
    text_len: int
    percent: float
    words: Tuple[WordTiming, ...]

    def pcm(self) -> memoryview:
        """The samples as a memoryview of C floats (format 'f'); empty when there are none."""
        return memoryview(self.samples if self.samples is not None else array("f"))


@dataclass(frozen=True)
class Backend:
    """A registered backend (chorus_backend_info): ``available`` and, when not, ``reason``."""
    name: str
    pattern: Optional[str]
    description: str
    capabilities: Tuple[str, ...]
    available: bool
    reason: Optional[str]
    max_input_chars: int
    sample_rate: int


@dataclass(frozen=True)
class Voice:
    """A voice a backend offers (chorus_voice): pass ``id`` as ``voice=``."""
    id: str
    name: Optional[str]
    language: Optional[str]
    gender: Optional[str]
    backend: Optional[str]
    description: Optional[str]


@dataclass(frozen=True)
class OptionInfo:
    """A backend option (chorus_option_desc): pass it in ``options={key: value}``."""
    key: str
    type: str
    default: Optional[str]
    min: Optional[float]
    max: Optional[float]
    values: List[str] = field(default_factory=list)
    help: Optional[str] = None


@dataclass(frozen=True)
class Estimate:
    """What a request would cost, estimated without sending it (chorus_estimate)."""
    backend: Optional[str]
    provider: Optional[str]
    model: Optional[str]
    characters: int
    input_tokens: float
    output_tokens: float
    credits: float
    usd: float
    basis: Optional[str]


@dataclass(frozen=True)
class EngineStats:
    """The engine's limiter now (chorus_engine_stats): generations running and waiting."""
    max_concurrent: int
    active: int
    queued: int
    started_total: int


@dataclass(frozen=True)
class CacheStats:
    """The audio cache as this engine sees it (chorus_cache_stats)."""
    enabled: bool
    dir: Optional[str]
    hits: int
    misses: int
    corrupt: int
    stores: int
    entries: int
    bytes: int
    max_bytes: int
    hits_total: int
