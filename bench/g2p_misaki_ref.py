#!/usr/bin/env python3
"""misaki's reference phonemes for bench_kokoro_g2p: each word of a text as misaki's English G2P
(hexgrad/misaki misaki/en.py, run unmodified from a checkout given with --misaki) phonemizes it.

misaki tags with spaCy and falls back to espeak-ng through phonemizer; neither is needed here:
the text's tokens and Penn tags are supplied (punctuation split off; a, an, the: DT; I: PRP;
to: TO; in, by: IN before a word, RP/RB before punctuation; WORD|TAG in the text as written;
other words the unknown tag XX, which makes misaki use an entry's DEFAULT) and misaki's own
EspeakFallback rewrites the espeak-ng command's IPA. Numbers must already be words (chorus's
normalizer runs before its G2P). Prints "word<TAB>phonemes" per word.

usage: g2p_misaki_ref.py --misaki DIR [--british] TEXTFILE
"""
import argparse
import re
import subprocess
import sys
import types


def stub_modules():
    class Dict(dict):  # addict.Dict: attribute access, missing keys are None
        def __getattr__(self, k):
            return self.get(k)

        def __setattr__(self, k, v):
            self[k] = v

    sys.modules["addict"] = types.SimpleNamespace(Dict=Dict)
    for name in ("spacy", "torch", "transformers", "num2words", "espeakng_loader", "numpy"):
        sys.modules[name] = types.ModuleType(name)
    sys.modules["transformers"].BartForConditionalGeneration = object
    sys.modules["num2words"].num2words = lambda *a, **k: ""
    sys.modules["espeakng_loader"].get_library_path = lambda: ""
    sys.modules["espeakng_loader"].get_data_path = lambda: ""

    class Wrapper:
        @staticmethod
        def set_library(_):
            pass

        @staticmethod
        def set_data_path(_):
            pass

    class Backend:  # phonemizer's EspeakBackend, on the espeak-ng command
        def __init__(self, language, **_):
            self.language = language

        def phonemize(self, words):
            out = subprocess.run(["espeak-ng", "-q", "--ipa", "--tie=^", "-v", self.language, words[0]],
                                 capture_output=True, text=True, check=True).stdout
            return [" ".join(out.split())]

    ph = types.ModuleType("phonemizer")
    ph.backend = types.ModuleType("phonemizer.backend")
    ph.backend.EspeakBackend = Backend
    ph.backend.espeak = types.ModuleType("phonemizer.backend.espeak")
    ph.backend.espeak.wrapper = types.SimpleNamespace(EspeakWrapper=Wrapper)
    sys.modules.update({"phonemizer": ph, "phonemizer.backend": ph.backend,
                        "phonemizer.backend.espeak": ph.backend.espeak,
                        "phonemizer.backend.espeak.wrapper": ph.backend.espeak.wrapper})


PUNCT = ",.;:!?—\"“”()"


def tokens_of(text):
    """[(text, tag, whitespace)] like spaCy's, with the supplied tags."""
    raw = text.split()
    toks = []
    for i, item in enumerate(raw):
        word, _, tag = item.partition("|")
        lead = re.match(r"^[%s]*" % re.escape(PUNCT), word).group()
        trail = re.search(r"[%s]*$" % re.escape(PUNCT), word[len(lead):]).group()
        core = word[len(lead):len(word) - len(trail)]
        for c in lead:
            toks.append([c, c if c in ",.:;" else "NFP", ""])
        if core:
            toks.append([core, tag, ""])
        for c in trail:
            toks.append([c, c if c in ",.:;" else ":", ""])
        toks[-1][2] = " " if i + 1 < len(raw) else ""
    for i, t in enumerate(toks):
        if t[1]:
            continue
        nxt = toks[i + 1][0] if i + 1 < len(toks) else ""
        word_next = bool(nxt) and nxt not in PUNCT
        lw = t[0].lower()
        t[1] = {"a": "DT", "an": "DT", "the": "DT", "to": "TO"}.get(lw, "")
        if t[0] == "I":
            t[1] = "PRP"
        elif lw in ("in", "by"):
            t[1] = "IN" if word_next else ("RP" if lw == "in" else "RB")
        elif t[0] in PUNCT:
            t[1] = t[0] if t[0] in ",.:;" else ":"
        t[1] = t[1] or "XX"
    return toks


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--misaki", required=True)
    ap.add_argument("--british", action="store_true")
    ap.add_argument("text")
    a = ap.parse_args()
    stub_modules()
    sys.path.insert(0, a.misaki)
    from misaki import en, espeak
    from misaki.token import MToken

    g = object.__new__(en.G2P)
    g.version, g.british, g.unk = None, a.british, "❓"
    g.lexicon = en.Lexicon(a.british)
    g.fallback = espeak.EspeakFallback(british=a.british)
    lines = [l for l in open(a.text, encoding="utf-8") if not l.startswith("#")]
    for line in lines:
        toks = tokens_of(line.strip())
        if not toks:
            continue
        g.tokenize = lambda text, tokens, features, toks=toks: [
            MToken(text=t, tag=tag, whitespace=ws,
                   _=MToken.Underscore(is_head=True, num_flags="", prespace=False))
            for t, tag, ws in toks]
        _, out = g(" ".join(t for t, _, _ in toks), preprocess=False)
        for tk in out:
            if tk.text and tk.text not in PUNCT:
                print(f"{tk.text}\t{tk.phonemes or ''}")


if __name__ == "__main__":
    main()
