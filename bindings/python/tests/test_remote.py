# SPDX-License-Identifier: GPL-3.0-or-later
"""The package against the loopback fakes of OpenAI, ElevenLabs and AllTalk
(tests/fakes/fake_tts.py, which speaks each provider's wire format as its docs and SDKs show;
its audio is a tone of 1/15 s per character, so durations are known)."""
import asyncio
import threading

import pytest

import chorus
from conftest import KEY, decode, rms, wait_for

TEXT = "The remote backend speaks through a fake OpenAI server."


def test_openai_say_stream_and_file(fake, tmp_path):
    f = fake("openai")
    with chorus.Engine(no_config=True) as e:
        mp3 = e.say(TEXT, backend="openai", voice="shimmer", format="mp3", cache=False)
        r, pcm = decode(mp3, "mp3")
        assert r == 24000 and abs(len(pcm) / r - len(TEXT) / 15) < 0.2 and rms(pcm) > 0.05
        chunks = list(e.stream(TEXT, backend="openai", voice="alloy", format="pcm", cache=False))
        n = sum(len(c.samples) for c in chunks)
        assert abs(n / 24000 - len(TEXT) / 15) < 0.1 and chunks[-1].percent == 100.0
        e.synthesize_file(tmp_path / "o.wav", TEXT, backend="openai", speed=2.0, cache=False)
        r, pcm = decode((tmp_path / "o.wav").read_bytes(), "wav")
        assert abs(len(pcm) / r - len(TEXT) / 30) < 0.1
        est = e.estimate(TEXT, backend="openai", model="tts-1")
        assert est.provider == "openai" and est.usd == pytest.approx(len(TEXT) * 15e-6)
    reqs = [q for q in f.requests() if q["path"].endswith("/audio/speech")]
    assert [q["json"]["voice"] for q in reqs] == ["shimmer", "alloy", "shimmer"] or \
        [q["json"]["voice"] for q in reqs][:2] == ["shimmer", "alloy"]
    assert reqs[2]["json"]["speed"] == 2.0
    assert all(q["headers"]["authorization"] == "Bearer " + KEY for q in reqs)


@pytest.mark.parametrize("plan,name", [("quota", "E_QUOTA"), ("wrongkey", "E_AUTH"),
                                       ("500", "E_SERVER")])
def test_remote_errors_name_the_status_and_hide_the_key(fake, monkeypatch, plan, name):
    fake("openai", "--plan", ",".join([plan] * 8))
    if plan == "wrongkey":  # the fake echoes part of a wrong key, as OpenAI does
        monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong-" + KEY)
    with chorus.Engine(no_config=True) as e:
        with pytest.raises(chorus.ChorusError) as ei:
            e.say("No luck.", backend="openai", cache=False)
    assert ei.value.name == name
    assert ei.value.message and KEY not in str(ei.value) and KEY[:12] not in str(ei.value)


def test_openai_voice_error_is_actionable(fake):
    fake("openai")
    with chorus.Engine(no_config=True) as e:
        with pytest.raises(chorus.ChorusError) as ei:
            e.say("Hi.", backend="openai", voice="nonesuch", cache=False)
    assert "nonesuch" in ei.value.message


def test_elevenlabs_word_timings(fake):
    fake("elevenlabs")
    text = "Word timings come from character alignment."
    with chorus.Engine(no_config=True) as e:
        chunks = list(e.stream(text, backend="elevenlabs", voice="Sarah", cache=False))
        voices = e.voices("elevenlabs")
    words = [w for c in chunks for w in c.words]
    assert [w.word for w in words] == ["Word", "timings", "come", "from", "character",
                                       "alignment"]
    assert all(w.end > w.start for w in words)
    assert [w.start for w in words] == sorted(w.start for w in words)
    assert {"George", "Sarah"} <= {v.name for v in voices}


def test_alltalk_voices_and_flac(fake):
    fake("alltalk")
    with chorus.Engine(no_config=True) as e:
        assert any(v.id == "female_01.wav" for v in e.voices("alltalk"))
        flac = e.say("AllTalk speaks a flac file.", backend="alltalk_story", voice="female_02",
                     format="flac", cache=False)
    r, pcm = decode(flac, "flac")
    assert abs(len(pcm) / r - 27 / 15) < 0.1


def test_gil_is_released_while_c_waits(fake):
    """A reader blocked in chorus_stream_receive() on a slow server lets Python threads run."""
    fake("openai", "--plan", "slow:150", "--chunk", "16384")
    counter = [0]
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            counter[0] += 1

    with chorus.Engine(no_config=True) as e:
        s = e.stream(TEXT, backend="openai", format="pcm", cache=False)
        t = threading.Thread(target=spin)
        t.start()
        try:
            start = counter[0]
            c = s.receive()  # blocks in C for the first slow chunk
            progressed = counter[0] - start
            rest = list(s)
        finally:
            stop.set()
            t.join()
            s.close()
    assert c is not None and rest
    assert progressed > 1000  # the spinning thread ran while the main thread waited in C


def test_asyncio_cancellation_of_a_remote_stream(fake):
    f = fake("openai", "--plan", "slow:200")
    with chorus.Engine(no_config=True) as e:
        async def main():
            got = asyncio.Event()

            async def consume():
                async for _ in e.astream(TEXT * 3, backend="openai", format="pcm", cache=False):
                    got.set()

            task = asyncio.create_task(consume())
            await got.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

        asyncio.run(main())
        assert wait_for(lambda: e.stats().active == 0)
        assert not e._h.streams


def test_admission_refusal_is_busy(fake):
    fake("openai", "--plan", "slow:300")
    with chorus.Engine(no_config=True, max_concurrent=1, max_queue=-1) as e:
        s = e.stream(TEXT, backend="openai", cache=False)
        next(s)  # holds the only slot
        with pytest.raises(chorus.Busy) as ei:
            e.say("Second.", backend="espeak")
        assert ei.value.name == "E_BUSY" and ei.value.message
        s.close()
        assert e.say("Now there is room.", backend="espeak")
