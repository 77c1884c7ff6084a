"""A speaker, listened to through its file output: the chime, the words in
order, the silences, the repeats, and what it does when calls pile up.

Each token of the test packs is a tone of its own pitch, so the WAV a
speaker writes is heard back token by token (tests/audio.py).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import shutil
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from devices.announcements import Announcement, Outcome, Phrase, Result
from devices.bus_device import DeviceContext
from devices.config import Texts
from devices.health import DeviceState
from devices.speaker import Speaker
from devices.speaker_config import SpeakerConfig, Voice
from drivers.audio.pcm import wav_bytes
from drivers.audio.sinks import PLAYED_LOG, AlsaSink, FileSink, Sink
from drivers.audio.voicebox import Voicebox
from tests.audio import Sound, gaps, heard, read, sounds, tone, tone_pack
from tests.conftest import Clock
from tests.waiting import until

pytestmark = pytest.mark.anyio

ZH = ("请", "A", "零", "一", "号到", "三", "号窗口办理")
EN = ("Number", "A", "zero", "one", "please go to window", "three")
CHIME_HZ = 600.0
TOKEN_GAP, PHRASE_GAP = 0.03, 0.2


def said(ticket: str) -> tuple[Phrase, ...]:
    """What the hall's default templates make of a call of `ticket` (made of
    A, 0 and 1) to window 3 (daemon/voice/script.py)."""
    digits = {"0": ("零", "zero"), "1": ("一", "one")}
    zh = ["请", ticket[0], *(digits[d][0] for d in ticket[1:]), "号到", "三", "号窗口办理"]
    en = ["Number", ticket[0], *(digits[d][1] for d in ticket[1:]), "please go to window"]
    return (Phrase("zh", tuple(zh)), Phrase("en", (*en, "three")))


@dataclass
class Rig:
    folder: Path
    voice: Voice
    context: DeviceContext
    clock: Clock
    pitches: dict[str, dict[str, float]]
    results: dict[str, Result] = field(default_factory=dict)
    speakers: list[Speaker] = field(default_factory=list)

    def speaker(
        self,
        sink: Sink | None = None,
        realtime: bool = False,
        packs: dict[str, Path] | None = None,
        retry_seconds: float = 30.0,
    ) -> Speaker:
        config = SpeakerConfig(
            id="speaker-1", model="speaker", mute={}, retry_seconds=retry_seconds
        )
        packs = packs or {language: self.folder / "packs" / language for language in ("zh", "en")}
        boxes = {language: Voicebox(language, pack, None) for language, pack in packs.items()}
        sink = sink or FileSink(self.folder / "out", realtime=realtime)
        speaker = Speaker(config, self.voice, sink, boxes, self.context)
        self.speakers.append(speaker)
        return speaker

    def call(
        self, speaker: Speaker, window: int, ticket: str, kind: str = "call", age: float = 0.0
    ) -> None:
        at = self.clock() - dt.timedelta(seconds=age)
        speaker.announce(
            Announcement(
                window, ticket, kind, at, said(ticket), self.voice.repeats, self._keep(ticket)
            )
        )

    def _keep(self, ticket: str) -> Callable[[Result], None]:
        def keep(result: Result) -> None:
            self.results[ticket] = result

        return keep

    async def results_for(self, *tickets: str, timeout: float = 15.0) -> list[Result]:
        await until(lambda: all(t in self.results for t in tickets), timeout, f"results {tickets}")
        return [self.results[t] for t in tickets]

    def played(self) -> list[dict[str, Any]]:
        log = self.folder / "out" / PLAYED_LOG
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text().splitlines()]

    def wav(self, entry: dict[str, Any]) -> list[Sound]:
        return sounds(read(self.folder / "out" / entry["file"]))

    def tokens(self, found: list[Sound], language: str) -> list[str]:
        return heard(found, self.pitches[language])


@pytest.fixture
async def rig(tmp_path: Path, clock: Clock) -> AsyncIterator[Rig]:
    pitches = {
        "zh": tone_pack(tmp_path / "packs" / "zh", "zh", list(ZH)),
        "en": tone_pack(tmp_path / "packs" / "en", "en", list(EN), first_hz=1500),
    }
    chime = tmp_path / "chime.wav"
    chime.write_bytes(wav_bytes(tone(CHIME_HZ, 0.1, 16000)))
    voice = Voice(
        languages=["zh", "en"],
        repeats=2,
        chime=chime,
        token_gap_ms=round(TOKEN_GAP * 1000),
        phrase_gap_ms=round(PHRASE_GAP * 1000),
        max_age_seconds=60,
    )
    context = DeviceContext(asyncio.get_running_loop(), clock, lambda event: None, Texts(), "zh")
    rig = Rig(tmp_path, voice, context, clock, pitches)
    yield rig
    for speaker in rig.speakers:
        if speaker._thread.is_alive():
            await asyncio.to_thread(speaker.stop)


def split_rounds(found: list[Sound]) -> list[list[Sound]]:
    """The sounds between the pauses of a phrase gap (the chime is the first group)."""
    groups: list[list[Sound]] = [[found[0]]]
    for gap, sound in zip(gaps(found), found[1:], strict=True):
        if gap > (TOKEN_GAP + PHRASE_GAP) / 2:
            groups.append([])
        groups[-1].append(sound)
    return groups


async def test_a_call_is_a_chime_then_each_language_twice(rig: Rig) -> None:
    speaker = rig.speaker()
    speaker.start()

    rig.call(speaker, 3, "A001")
    (result,) = await rig.results_for("A001")

    assert result == Result(Outcome.SAID, 2, pytest.approx(result.seconds), None)
    (entry,) = rig.played()
    found = rig.wav(entry)
    chime, zh1, en1, zh2, en2 = split_rounds(found)
    assert len(chime) == 1 and chime[0].hz == pytest.approx(CHIME_HZ, abs=10)
    for zh, en in ((zh1, en1), (zh2, en2)):
        assert rig.tokens(zh, "zh") == ["请", "A", "零", "零", "一", "号到", "三", "号窗口办理"]
        assert rig.tokens(en, "en") == [
            "Number", "A", "zero", "zero", "one", "please go to window", "three"
        ]  # fmt: skip
    # the silences: a phrase gap after the chime, between languages and rounds,
    # a token gap between words
    pauses = gaps(found)
    assert sorted(round(p, 2) for p in pauses)[-4:] == [PHRASE_GAP] * 4
    assert [round(p, 2) for p in pauses if p < PHRASE_GAP / 2] == [TOKEN_GAP] * 2 * (7 + 6)
    # and the length is exactly that of its parts
    audio = read(rig.folder / "out" / entry["file"])
    phrase_zh = 8 * 0.08 + 7 * TOKEN_GAP
    phrase_en = 7 * 0.08 + 6 * TOKEN_GAP
    expected = 0.1 + 2 * (PHRASE_GAP + phrase_zh + PHRASE_GAP + phrase_en)
    assert audio.seconds == pytest.approx(expected, abs=0.002)
    assert result.seconds == pytest.approx(expected, abs=0.002)


async def test_five_windows_at_once_are_each_heard_once_before_any_again(rig: Rig) -> None:
    speaker = rig.speaker()
    tickets = ["A001", "A010", "A011", "A100", "A101"]
    for window, ticket in enumerate(tickets, start=1):
        rig.call(speaker, window, ticket)  # all waiting before the speaker starts
    speaker.start()

    results = await rig.results_for(*tickets)

    assert [(r.outcome, r.rounds) for r in results] == [(Outcome.SAID, 2)] * 5
    played = rig.played()
    labels = [f"call-{ticket}-w{window}" for window, ticket in enumerate(tickets, start=1)]
    assert [entry["label"] for entry in played] == labels * 2
    for entry in played:  # each time: the chime and one round of zh and en
        assert len(split_rounds(rig.wav(entry))) == 3
    for before, after in itertools.pairwise(played):
        assert after["started"] >= before["ended"]  # never two at once


async def test_the_newest_call_of_a_window_replaces_the_one_waiting(rig: Rig) -> None:
    speaker = rig.speaker()
    rig.call(speaker, 1, "A001")
    rig.call(speaker, 2, "A100")
    rig.call(speaker, 1, "A010")
    speaker.start()

    replaced, first, second = await rig.results_for("A001", "A010", "A100")

    assert (replaced.outcome, replaced.rounds) == (Outcome.SUPERSEDED, 0)
    assert (first.outcome, second.outcome) == (Outcome.SAID, Outcome.SAID)
    assert [e["label"] for e in rig.played()][:2] == ["call-A010-w1", "call-A100-w2"]


async def test_a_call_older_than_the_limit_is_never_said(rig: Rig) -> None:
    speaker = rig.speaker()
    rig.call(speaker, 1, "A001", age=61)
    rig.call(speaker, 2, "A100", age=59)
    speaker.start()

    old, fresh = await rig.results_for("A001", "A100")

    assert (old.outcome, old.rounds) == (Outcome.EXPIRED, 0)
    assert fresh.outcome is Outcome.SAID
    assert {e["label"] for e in rig.played()} == {"call-A100-w2"}
    assert speaker.health().details["dropped"] == 1


async def test_a_newer_call_for_the_window_cuts_the_repeats_short(rig: Rig) -> None:
    speaker = rig.speaker(realtime=True)
    speaker.start()
    rig.call(speaker, 3, "A001")
    await until(lambda: rig.played() == [] and speaker.health().details["waiting"] == 0)

    rig.call(speaker, 3, "A011")  # while A001 is being said
    cut, newer = await rig.results_for("A001", "A011")

    assert (cut.outcome, cut.rounds) == (Outcome.CUT, 1)
    assert cut.reason == "a newer call for the window came"
    assert (newer.outcome, newer.rounds) == (Outcome.SAID, 2)


async def test_a_recall_is_said_again_after_the_call(rig: Rig) -> None:
    speaker = rig.speaker()
    speaker.start()
    rig.call(speaker, 3, "A001")
    await rig.results_for("A001")
    del rig.results["A001"]

    rig.call(speaker, 3, "A001", kind="recall")
    (again,) = await rig.results_for("A001")

    assert again.outcome is Outcome.SAID
    assert [e["label"] for e in rig.played()] == ["call-A001-w3", "recall-A001-w3"]


async def test_stopping_finishes_the_round_being_said(rig: Rig) -> None:
    speaker = rig.speaker(realtime=True)
    speaker.start()
    rig.call(speaker, 3, "A001")
    await until(lambda: speaker.health().details["waiting"] == 0)

    await asyncio.to_thread(speaker.stop)
    (result,) = await rig.results_for("A001")

    assert (result.outcome, result.rounds, result.reason) == (Outcome.CUT, 1, "the daemon stopped")
    (entry,) = rig.played()
    assert len(split_rounds(rig.wav(entry))) == 3  # the chime, zh, en: one whole round


async def test_words_a_pack_lacks_leave_the_speaker_degraded_saying_the_rest(
    rig: Rig, tmp_path: Path
) -> None:
    pitches = tone_pack(tmp_path / "short", "zh", ["请", "A", "零", "一", "号到", "三"])
    speaker = rig.speaker(packs={"zh": tmp_path / "short"})
    speaker.start()

    rig.call(speaker, 3, "A001")
    (result,) = await rig.results_for("A001")
    await until(lambda: speaker.tracker.state is DeviceState.DEGRADED)

    assert result.outcome is Outcome.SAID
    assert speaker.tracker.health.reason == "cannot say 号窗口办理"
    _, zh, _ = split_rounds(rig.wav(rig.played()[0]))
    assert heard(zh, pitches) == ["请", "A", "零", "零", "一", "号到", "三"]


async def test_a_pack_with_a_bad_clip_says_which_file(rig: Rig) -> None:
    (rig.folder / "packs" / "zh" / "办理.wav").write_bytes(b"RIFF")
    speaker = rig.speaker()
    speaker.start()

    await until(lambda: speaker.tracker.state is DeviceState.DEGRADED)

    assert f"{rig.folder / 'packs' / 'zh' / '办理.wav'}: not a PCM WAV" in (
        speaker.tracker.health.reason or ""
    )


async def test_an_output_that_fails_is_offline_until_it_works_again(rig: Rig) -> None:
    blocked = rig.folder / "out"
    blocked.write_text("a file where the folder should be")
    speaker = rig.speaker(retry_seconds=0.1)
    speaker.start()
    await until(
        lambda: (
            speaker.tracker.state is DeviceState.OFFLINE
            and speaker.tracker.health.reason != "starting"
        )
    )
    assert speaker.tracker.health.reason == f"cannot write to {blocked}: File exists"

    rig.call(speaker, 3, "A001")
    (failed,) = await rig.results_for("A001")
    assert failed.outcome is Outcome.FAILED

    blocked.unlink()
    await until(lambda: speaker.tracker.state is DeviceState.ONLINE)
    rig.call(speaker, 3, "A011")
    (result,) = await rig.results_for("A011")
    assert result.outcome is Outcome.SAID
    assert speaker.health().counters.reconnects == 1


@pytest.mark.skipif(shutil.which("aplay") is None, reason="aplay is not installed")
async def test_a_call_is_played_through_aplay(rig: Rig) -> None:
    speaker = rig.speaker(sink=AlsaSink("null"))
    speaker.start()

    rig.call(speaker, 3, "A001")
    (result,) = await rig.results_for("A001")

    assert (result.outcome, result.rounds) == (Outcome.SAID, 2)
    assert speaker.health().link == "alsa:null"


async def test_a_language_whose_pack_is_not_there_yet_is_left_out(rig: Rig) -> None:
    # the county hall before its Tibetan pack is recorded
    missing = rig.folder / "packs" / "bo"
    speaker = rig.speaker(packs={"zh": rig.folder / "packs" / "zh", "bo": missing})
    speaker.start()

    rig.call(speaker, 3, "A001")
    (result,) = await rig.results_for("A001")
    await until(lambda: speaker.tracker.state is DeviceState.DEGRADED)

    assert result.outcome is Outcome.SAID
    _, zh1, zh2 = split_rounds(rig.wav(rig.played()[0]))  # no pause for Tibetan
    assert rig.tokens(zh1, "zh") == rig.tokens(zh2, "zh") == list(said("A001")[0].tokens)
    reason = speaker.tracker.health.reason or ""
    assert reason.startswith(f"{missing}: not a clip pack (no pack.yaml)")


class BrokenOnce(Voicebox):
    """A voicebox with a fault of ours in its first phrase."""

    broken = True

    def phrase(self, tokens: tuple[str, ...], gap_seconds: float) -> Any:
        if self.broken:
            self.broken = False
            raise RuntimeError("a bug")
        return super().phrase(tokens, gap_seconds)


async def test_a_fault_in_one_call_does_not_silence_the_speaker(rig: Rig) -> None:
    speaker = rig.speaker()
    speaker.voiceboxes = {"zh": BrokenOnce("zh", rig.folder / "packs" / "zh", None)}
    speaker.start()

    rig.call(speaker, 3, "A001")
    (failed,) = await rig.results_for("A001")
    rig.call(speaker, 3, "A011")
    (said,) = await rig.results_for("A011")

    assert (failed.outcome, failed.reason) == (Outcome.FAILED, "RuntimeError('a bug')")
    assert said.outcome is Outcome.SAID
