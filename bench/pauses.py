#!/usr/bin/env python3
"""pauses.py — the pause rhythm at chunk joins vs inside one chunk, measured on real output.

Speaks the same text twice with one engine (default espeak): once as one chunk (a large
max_chunk_chars) and once cut into many small chunks (max_chunk_chars = SMALL), decodes both
with libsndfile's `sox` (an independent decoder) and lists the silent runs (samples below
-50 dBFS, at least MIN_MS long) in order. Silences are matched to the punctuation they follow by
their order; sentence and clause pauses are reported separately, in ms, with the word `end`
times of --json checked against the next word's start.

usage: bench/pauses.py [CHORUS_BIN] [BACKEND] [SPEED]
PAUSES_CONFIG (environment): more lines for the backend's config section, e.g. Kokoro's
model_path/config_path/voices_path for the random-weight checkpoint in tests/data/kokoro.
"""
import json, os, subprocess, sys, tempfile, wave, struct

BIN = sys.argv[1] if len(sys.argv) > 1 else "build/chorus"
BACKEND = sys.argv[2] if len(sys.argv) > 2 else "espeak"
SPEED = sys.argv[3] if len(sys.argv) > 3 else "1"
SMALL = 24
MIN_MS = 20
QUIET = 0.0031622777 * 32768

TEXT = ("The wind moved slowly in the old trees. A farmer walked to the barn, carrying a pail "
        "of water. He stopped, listened, and smiled. The cows were waiting; they always were. "
        "Morning came early on the farm, and the work never ended. Still, he loved it.")


def kinds(text):
    """(byte offset, kind) of each punctuation mark that calls for a pause, in order."""
    out = []
    for i, c in enumerate(text):
        nxt = text[i + 1] if i + 1 < len(text) else " "
        if c in ".!?" and nxt == " ":
            out.append((i, "sentence"))
        elif c in ",;:" and nxt == " ":
            out.append((i, "clause"))
    return out


def pause_at(sil, words, off):
    """The longest silence between the start of the word before offset off and the start of
    the word after it (0 when there is none)."""
    before = [w for w in words if w["offset"] < off]
    after = [w for w in words if w["offset"] > off]
    if not before or not after:
        return None
    a, b = before[-1]["start"], after[0]["start"]
    inside = [d for t, d in sil if t >= a - 0.005 and t <= b + 0.005]
    return round(max(inside)) if inside else 0


def speak(tmp, chunk):
    cfg = os.path.join(tmp, "c%d.toml" % chunk)
    with open(cfg, "w") as f:
        f.write("[%s]\nmax_chunk_chars = %d\n%s\n" % (BACKEND, chunk, os.environ.get("PAUSES_CONFIG", "")))
    wav = os.path.join(tmp, "o%d.wav" % chunk)
    js = os.path.join(tmp, "o%d.json" % chunk)
    env = dict(os.environ, CHORUS_CONFIG=cfg, CHORUS_CACHE="0")
    subprocess.run([BIN, "say", "-q", "-b", BACKEND, "--speed", SPEED, "-o", wav, "--timestamps", js, TEXT],
                   env=env, check=True)
    raw = subprocess.run(["sox", wav, "-t", "raw", "-e", "signed", "-b", "16", "-c", "1", "-"],
                         capture_output=True, check=True).stdout
    rate = int(subprocess.run(["soxi", "-r", wav], capture_output=True, text=True).stdout)
    pcm = struct.unpack("<%dh" % (len(raw) // 2), raw)
    words = json.load(open(js))
    return pcm, rate, words


def silences(pcm, rate):
    out, i, n = [], 0, len(pcm)
    while i < n and abs(pcm[i]) < QUIET:
        i += 1
    while i < n:
        j = i
        while j < n and abs(pcm[j]) < QUIET:
            j += 1
        if j < n and (j - i) * 1000.0 / rate >= MIN_MS:
            out.append((i / rate, (j - i) * 1000.0 / rate))
        i = j + 1
    return out


def overlaps(words):
    bad = 0
    for a, b in zip(words, words[1:]):
        if a["end"] > b["start"] + 1e-6:
            bad += 1
    return bad


def main():
    with tempfile.TemporaryDirectory() as tmp:
        k = kinds(TEXT)
        res = {}
        for label, chunk in (("one chunk", 100000), ("chunks of %d chars" % SMALL, SMALL)):
            pcm, rate, words = speak(tmp, chunk)
            sil = silences(pcm, rate)
            res[label] = (sil, words)
            print("%s: %d pauses >= %d ms, %.3f s of audio, %d words, %d word ends past the next start"
                  % (label, len(sil), MIN_MS, len(pcm) / rate, len(words), overlaps(words)))
        print("punctuation: %d pauses called for (%d sentence, %d clause)"
              % (len(k), sum(1 for o, kk in k if kk == "sentence"), sum(1 for o, kk in k if kk == "clause")))
        for kind in ("sentence", "clause"):
            for label, (sil, words) in res.items():
                ms = [pause_at(sil, words, o) for o, kk in k if kk == kind]
                print("  %-8s %-20s %s" % (kind, label, ms))

main()
