# SPDX-License-Identifier: GPL-3.0-or-later
"""Engine.say / stream / synthesize_file / text tools on the embedded espeak engine; every audio
result is decoded by FFmpeg or Python's wave module and checked as the C tests check theirs."""
import io
import os
import struct
import wave

import pytest

import chorus
from conftest import decode, rms

TEXT = "The quick brown fox jumps over the lazy dog. Then it runs home."


def duration_plausible(seconds, text):
    # espeak speaks ~12-18 characters a second at speed 1 (the C tests' bounds are similar)
    return len(text) / 30 < seconds < len(text) / 6


def test_say_wav_is_a_complete_file(engine):
    wav = engine.say(TEXT, backend="espeak")
    # exact RIFF sizes (final_header patched over the streamed header)
    assert wav[:4] == b"RIFF" and wav[8:12] == b"WAVE"
    assert struct.unpack_from("<I", wav, 4)[0] == len(wav) - 8
    with wave.open(io.BytesIO(wav)) as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2
        frames = w.getnframes()
        rate = w.getframerate()
        assert frames * 2 + 44 <= len(wav)
    r, pcm = decode(wav, "wav")
    assert r == rate
    assert abs(len(pcm) - frames) <= 1
    assert duration_plausible(len(pcm) / r, TEXT)
    assert rms(pcm) > 0.02


@pytest.mark.parametrize("fmt", ["mp3", "opus", "flac", "aac", "pcm"])
def test_say_every_format_decodes(engine, fmt):
    if not chorus.format_supported(fmt):
        pytest.skip("%s is not in this build" % fmt)
    ref_rate, ref = decode(engine.say(TEXT, backend="espeak"), "wav")
    data = engine.say(TEXT, backend="espeak", format=fmt)
    with engine.stream(TEXT, backend="espeak", format=fmt) as s:
        rate = s.sample_rate
    r, pcm = decode(data, fmt, rate)
    assert r == (48000 if fmt == "opus" else rate)  # FFmpeg decodes Opus at 48 kHz
    # same speech: duration within encoder padding, and not silent
    assert abs(len(pcm) / r - len(ref) / ref_rate) < 0.15, fmt
    assert rms(pcm) > 0.02


def test_speed_and_sample_rate(engine):
    _, normal = decode(engine.say(TEXT, backend="espeak", format="flac"), "flac")
    _, fast = decode(engine.say(TEXT, backend="espeak", format="flac", speed=2.0), "flac")
    assert 0.35 < len(fast) / len(normal) < 0.8
    r, pcm = decode(engine.say("Sample rate.", backend="espeak", sample_rate=16000), "wav")
    assert r == 16000 and rms(pcm) > 0.02


def test_stream_chunks_pcm_words_progress(engine):
    text = "Café au lait, naïve résumé. Zoë's crème brûlée is ready now."
    chunks = list(engine.stream(text, backend="espeak", format="pcm"))
    assert chunks and [c.index for c in chunks] == list(range(len(chunks)))
    rate = chunks[0].sample_rate
    pos = 0
    for c in chunks:
        assert c.sample_rate == rate
        # the float PCM and the encoded s16 bytes are the same audio
        assert len(c.data) == 2 * len(c.samples)
        s16 = struct.unpack("<%dh" % len(c.samples), c.data)
        assert all(abs(a / 32768.0 - b) < 2e-3 for a, b in zip(s16[:200], c.samples[:200]))
        assert abs(c.start_time - pos / rate) < 1e-6
        assert c.pcm().format == "f" and len(c.pcm()) == len(c.samples)
        pos += len(c.samples)
    # a decoder reading the concatenated bytes finds the same samples
    r, pcm = decode(b"".join(c.data for c in chunks), "pcm", rate)
    assert len(pcm) == pos and rms(pcm) > 0.02
    # progress only grows and ends at 100
    pct = [c.percent for c in chunks]
    assert pct == sorted(pct) and pct[-1] == 100.0
    # word timings index the Python str (characters, not UTF-8 bytes)
    words = [w for c in chunks for w in c.words]
    assert [w.word for w in words][:4] == ["Café", "au", "lait", "naïve"]
    for w in words:
        assert text[w.offset:w.offset + w.length] == w.word
        assert 0 <= w.start < w.end <= pos / rate + 1e-6
    assert [w.start for w in words] == sorted(w.start for w in words)


def test_stream_without_samples_and_information(engine):
    with engine.stream("Bytes only.", backend="espeak", voice="en-us", samples=False) as s:
        assert s.backend == "espeak" and s.voice
        chunks = list(s)
        assert all(c.samples is None for c in chunks)
        assert s.final_header()[:4] == b"RIFF"
    assert s.closed


def test_ssml_and_phonemes(engine):
    plain = decode(engine.say("Hello world.", backend="espeak"), "wav")[1]
    ssml = decode(engine.say('<speak>Hello <break time="800ms"/> world.</speak>', backend="espeak",
                             input="ssml"), "wav")[1]
    assert (len(ssml) - len(plain)) / 22050 > 0.5
    ph = engine.phonemize("hello world", backend="espeak")
    assert ph and "h" in ph
    r, pcm = decode(engine.say(ph, backend="espeak", input="phonemes"), "wav")
    assert rms(pcm) > 0.02 and 0.3 < len(pcm) / r < 3


def test_backend_options_change_the_voice(engine):
    low = engine.say("Pitch test.", backend="espeak", options={"pitch": 0}, format="pcm")
    high = engine.say("Pitch test.", backend="espeak", options={"pitch": 100}, format="pcm")
    assert low != high
    with pytest.raises(chorus.ChorusError) as ei:
        engine.say("x", backend="espeak", options={"loudness": 3})
    assert ei.value.name == "E_OPTION" and "loudness" in ei.value.message
    assert "pitch" in ei.value.message  # it lists the options the backend has


def test_normalize_switches(engine):
    assert "dollars" in chorus.normalize("It costs $12.50.")
    assert "$12.50" in chorus.normalize("It costs $12.50.", options={"normalize": False})
    assert engine.normalize("3 km", options="unit_normalization=true") != "3 km"
    a = engine.say("Call 555-1234 at 3pm.", backend="espeak", format="pcm")
    b = engine.say("Call 555-1234 at 3pm.", backend="espeak", format="pcm", normalize=False)
    assert a != b
    with pytest.raises(chorus.ChorusError) as ei:
        chorus.normalize("x", options="bogus=true")
    assert ei.value.name == "E_OPTION" and "bogus" in ei.value.message


def test_errors_carry_status_name_and_message(engine):
    with pytest.raises(chorus.ChorusError) as ei:
        engine.say("Hello.", backend="espeak", voice="no-such-voice-xyz")
    e = ei.value
    assert e.name == "E_UNKNOWN_VOICE" and e.status == -6
    assert "no-such-voice-xyz" in e.message and str(e).startswith("E_UNKNOWN_VOICE: ")
    with pytest.raises(chorus.ChorusError) as ei:
        engine.say("Hello.", backend="nonesuch")
    assert ei.value.name == "E_UNKNOWN_BACKEND" and "espeak" in ei.value.message
    with pytest.raises(chorus.ChorusError) as ei:
        chorus.Engine(config="/nonexistent/chorus.toml")
    assert "/nonexistent/chorus.toml" in ei.value.message


def test_engine_config_file(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[chorus]\ndefault_backend = "espeak"\nmax_concurrent = 3\n')
    with chorus.Engine(cfg) as e:
        assert e.config_path == str(cfg)
        assert e.config("chorus", "max_concurrent") == "3"
        assert e.stats().max_concurrent == 3 and e.default_backend == "espeak"
    bad = tmp_path / "bad.toml"
    bad.write_text("[chorus]\nmax_concurrent = four\n")
    with pytest.raises(chorus.ChorusError) as ei:
        chorus.Engine(bad)
    assert ei.value.name == "E_CONFIG" and str(bad) in ei.value.message


def test_discovery(engine, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with chorus.Engine(no_config=True) as e:
        bs = {b.name: b for b in e.backends()}
    assert bs["espeak"].available and "local" in bs["espeak"].capabilities
    assert bs["openai"].available is False and "OPENAI_API_KEY" in bs["openai"].reason
    vs = engine.voices("espeak")
    assert len(vs) > 50 and any(v.id.startswith("en") for v in vs)
    assert all(v.backend == "espeak" for v in vs)
    opts = {o.key: o for o in engine.options("espeak")}
    assert opts["pitch"].type == "int" and opts["pitch"].min == 0 and opts["pitch"].max == 100
    est = engine.estimate("Hello there.", backend="espeak")
    assert est.provider == "local" and est.usd == 0 and est.characters == 12
    code, conf = chorus.detect_language("Ceci est une phrase en français, sans aucun doute.")
    assert code == "fr" and 0 < conf <= 1
    assert chorus.format_mime("mp3") == "audio/mpeg"
    assert chorus.format_decode_delay("wav", 24000) == 0
    assert chorus.format_decode_delay("aac", 24000) > 0


def test_synthesize_file(engine, tmp_path):
    out = tmp_path / "out.flac"
    seen = []
    engine.synthesize_file(out, TEXT, backend="espeak", progress=seen.append)
    r, pcm = decode(out.read_bytes(), "flac")
    assert out.read_bytes()[:4] == b"fLaC" and duration_plausible(len(pcm) / r, TEXT)
    assert seen and seen == sorted(seen) and seen[-1] == pytest.approx(100.0)
    # an exception in the callback cancels the synthesis, is raised here, leaves no file
    def boom(p):
        raise RuntimeError("stop here")
    with pytest.raises(RuntimeError, match="stop here"):
        engine.synthesize_file(tmp_path / "x.wav", TEXT, backend="espeak", progress=boom)
    assert sorted(os.listdir(tmp_path)) == ["out.flac"]
    with pytest.raises(chorus.ChorusError) as ei:
        engine.synthesize_file(tmp_path / "no" / "dir" / "x.wav", "Hi.", backend="espeak")
    assert str(tmp_path / "no" / "dir") in ei.value.message
    assert sorted(os.listdir(tmp_path)) == ["out.flac"]
