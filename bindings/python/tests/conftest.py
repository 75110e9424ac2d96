# SPDX-License-Identifier: GPL-3.0-or-later
"""pytest setup for the chorus package: the library under test, loopback fakes, decoding.

Run by CTest (tests/CMakeLists.txt, test python_bindings) with CHORUS_LIBRARY pointing at the
build's libchorus.so and PYTHONPATH at the package; by hand:
    CHORUS_LIBRARY=build/libchorus.so PYTHONPATH=bindings/python/src \
        /usr/bin/python3 -m pytest bindings/python/tests
Audio is decoded by FFmpeg (and Python's own wave module), never by chorus.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from array import array
from pathlib import Path
from typing import Iterator, Tuple

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
FAKES = Path(os.environ.get("CHORUS_FAKES", REPO / "tests" / "fakes"))
KEY = "sk-FAKEKEY-py-4e3d2c1b0a99"

os.environ.setdefault("CHORUS_CACHE", "0")
os.environ.setdefault("CHORUS_LOG", "error")
if "CHORUS_LIBRARY" not in os.environ:
    built = REPO / "build" / "libchorus.so"
    if built.exists():
        os.environ["CHORUS_LIBRARY"] = str(built)
if not any(Path(p, "chorus", "__init__.py").exists() for p in sys.path if p):
    sys.path.insert(0, str(HERE.parent / "src"))


# Child processes (ffmpeg, the fakes) do not get the ASan runtime the sanitizer build preloads.
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}


def decode(data: bytes, fmt: str, rate: int = 0) -> Tuple[int, array]:
    """Decode audio bytes with ffmpeg: (sample rate, mono float samples)."""
    inp = ["-f", "s16le", "-ar", str(rate), "-ac", "1"] if fmt == "pcm" else []
    probe = subprocess.run(["ffprobe", "-v", "error", *inp, "-show_entries", "stream=sample_rate",
                            "-of", "csv=p=0", "-i", "pipe:0"], input=data,
                           capture_output=True, check=True, env=CHILD_ENV)
    out = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", *inp, "-i", "pipe:0", "-f", "f32le",
                          "-ac", "1", "pipe:1"], input=data, capture_output=True, check=True,
                         env=CHILD_ENV)
    pcm = array("f")
    pcm.frombytes(out.stdout)
    return int(probe.stdout.split()[0]), pcm


def rms(x) -> float:
    return (sum(v * v for v in x) / len(x)) ** 0.5 if len(x) else 0.0


@pytest.fixture
def engine():
    import chorus
    with chorus.Engine(no_config=True) as e:
        yield e


class Fake:
    def __init__(self, provider: str, log: Path, args: list) -> None:
        self.log = log
        self.proc = subprocess.Popen([sys.executable, str(FAKES / "fake_tts.py"), "--provider",
                                      provider, "--log", str(log), *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                     env=CHILD_ENV)
        line = self.proc.stdout.readline()  # "PORT n"; a loaded machine starts python slowly
        if not line.startswith("PORT "):
            self.proc.kill()
            raise RuntimeError("fake %s did not start: %r" % (provider, line))
        self.port = int(line.split()[1])

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()

    def requests(self) -> list:
        import json
        return [json.loads(l) for l in self.log.read_text().splitlines()] if self.log.exists() else []


@pytest.fixture
def fake(tmp_path, monkeypatch) -> Iterator:
    """fake(provider, *args): a loopback fake (tests/fakes/fake_tts.py) wired into the env."""
    started = []

    def start(provider: str, *args: str) -> Fake:
        f = Fake(provider, tmp_path / ("%s%d.log" % (provider, len(started))),
                 ["--key", KEY, *args] if provider != "alltalk" else list(args))
        started.append(f)
        if provider == "openai":
            monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:%d/v1" % f.port)
            monkeypatch.setenv("OPENAI_API_KEY", KEY)
        elif provider == "elevenlabs":
            monkeypatch.setenv("ELEVENLABS_BASE_URL", "http://127.0.0.1:%d" % f.port)
            monkeypatch.setenv("ELEVENLABS_API_KEY", KEY)
        else:
            monkeypatch.setenv("ALLTALK_TTS_URL", "http://127.0.0.1:%d" % f.port)
        return f

    yield start
    for f in started:
        f.close()


def rss_kib() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def wait_for(pred, timeout: float = 30.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.01)
    return pred()
