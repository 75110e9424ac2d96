#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""bench_python.py — the Python package's overhead over the C API, per request and per chunk.

    bench_python.py BUILD_DIR [--chars 1000] [--reps 20] [--rounds 3]

The same espeak request (bench_espeak's sentence repeated to --chars characters, PCM, no cache)
is timed through the C pull API (BUILD_DIR/bench/bench_pull) and through the package:
  stream   for chunk in engine.stream(...): each chunk copied into a Chunk (bytes, array('f')
           samples, words, progress)
  say      engine.say(...): the joined bytes (no float samples)
Rounds alternate C and Python so a busy machine loads both alike; per mode the minimum over
all rounds' minima and the median of the medians are printed, with the overhead against C in
percent and in microseconds per chunk, for wall time and for the process's CPU time (all
threads; steadier than wall time on a busy machine). Nothing is asserted.
"""
import os
import statistics
import subprocess
import sys
import time

SENTENCE = "The quick brown fox jumps over the lazy dog, and then it rests. "


def c_baseline(build, chars, reps, no_samples):
    cmd = [os.path.join(build, "bench", "bench_pull"), "--chars", str(chars), "--reps", str(reps)]
    if no_samples:
        cmd.append("--no-samples")
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.split()
    kv = dict(w.split("=") for w in out[1:])
    return int(kv["chunks"]), (float(kv["min_ms"]), float(kv["median_ms"])), \
        (float(kv["cpu_min_ms"]), float(kv["cpu_median_ms"]))


def timed(fn, reps):
    fn()  # warm-up
    t, cpu = [], []
    for _ in range(reps):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        t.append((time.perf_counter() - t0) * 1000.0)
        cpu.append((time.process_time() - c0) * 1000.0)
    return (min(t), statistics.median(t)), (min(cpu), statistics.median(cpu))


def main():
    args = sys.argv[1:]
    if not args or args[0].startswith("-"):
        sys.exit(__doc__)
    build = args[0]
    opt = dict(zip(args[1::2], args[2::2]))
    chars = int(opt.get("--chars", 1000))
    reps = int(opt.get("--reps", 20))
    rounds = int(opt.get("--rounds", 3))
    os.environ.setdefault("CHORUS_LIBRARY", os.path.join(build, "libchorus.so"))
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.join(here, "..", "bindings", "python", "src"))
    import chorus

    text = (SENTENCE * (chars // len(SENTENCE) + 1))[:chars]
    engine = chorus.Engine(no_config=True)
    nchunks = []

    def stream():
        n = 0
        for _ in engine.stream(text, backend="espeak", format="pcm", cache=False):
            n += 1
        nchunks.append(n)

    def say():
        engine.say(text, backend="espeak", format="pcm", cache=False)

    res = {"c_samples": [], "stream": [], "c_bytes": [], "say": []}
    for _ in range(rounds):
        chunks, *c = c_baseline(build, chars, reps, False)
        res["c_samples"].append(c)
        res["stream"].append(timed(stream, reps))
        _, *c = c_baseline(build, chars, reps, True)
        res["c_bytes"].append(c)
        res["say"].append(timed(say, reps))
    engine.close()
    print("== python vs C: espeak, %d characters, pcm, %d chunks per request, %d rounds x %d "
          "requests (%s)" % (chars, chunks, rounds, reps, chorus.library_version()[0]))
    for mode, base in (("stream", "c_samples"), ("say", "c_bytes")):
        for k, what in ((0, "wall"), (1, "cpu")):
            cmin = min(r[k][0] for r in res[base])
            cmed = statistics.median(r[k][1] for r in res[base])
            pmin = min(r[k][0] for r in res[mode])
            pmed = statistics.median(r[k][1] for r in res[mode])
            print("%-6s %-4s C min %8.3f ms  median %8.3f ms | Python min %8.3f ms  median "
                  "%8.3f ms | overhead min %+6.2f%% (%+6.1f us/chunk)  median %+6.2f%%"
                  % (mode, what, cmin, cmed, pmin, pmed, 100 * (pmin - cmin) / cmin,
                     1000 * (pmin - cmin) / chunks, 100 * (pmed - cmed) / cmed))


if __name__ == "__main__":
    main()
