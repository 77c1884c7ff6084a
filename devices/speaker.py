"""A zone's loudspeakers: one thread per speaker says its announcements one
after the other, so two never overlap.

An announcement is a chime, then its phrases (each language once) `repeats`
times, each round after a pause. Between rounds the speaker looks again: a
newer call for the same window waiting, or the call grown older than the
hall's `max_age`, ends it there; other calls waiting put its repeats behind
them, so when five windows call at once each number is heard once first.
The whole announcement is rendered before the chime, so a word that must be
synthesized never leaves a hole.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Mapping
from dataclasses import replace

from devices.announcements import Announcement, AnnouncementQueue, Outcome, Result
from devices.bus_device import DeviceContext
from devices.health import DeviceCounters, DeviceHealth, DeviceState, HealthTracker
from devices.speaker_config import SpeakerConfig, Voice
from drivers.audio.chime import chime
from drivers.audio.pcm import Audio, WavError, join, read_wav, resample, silence
from drivers.audio.sinks import Sink, SinkError
from drivers.audio.voicebox import Voicebox

log = logging.getLogger(__name__)


class Speaker:
    kind = "speaker"

    def __init__(
        self,
        config: SpeakerConfig,
        voice: Voice,
        sink: Sink,
        voiceboxes: Mapping[str, Voicebox],
        context: DeviceContext,
    ) -> None:
        self.config = config
        self.voice = voice
        self.sink = sink
        self.voiceboxes = voiceboxes
        self.context = context
        self.tracker = HealthTracker(config.id, self.kind, config.model, sink.where, context.clock)
        self.counters = DeviceCounters()
        self.said = 0
        self.dropped = 0
        self.last: dict[str, object] | None = None
        self._queue = AnnouncementQueue(dt.timedelta(seconds=voice.max_age_seconds))
        self._wake = threading.Condition()
        self._stop = False
        self._failed = False  # the output failed last time; it is retried
        self._chime: Audio | None = None
        self._chime_problem: str | None = None
        self._packs: dict[str, object] = {}  # what the thread last saw of its voiceboxes
        self._thread = threading.Thread(target=self._run, name=f"speaker-{config.id}", daemon=True)

    @property
    def id(self) -> str:
        return self.config.id

    @property
    def languages(self) -> list[str]:
        return list(self.voiceboxes)

    @property
    def rate(self) -> int:
        """The rate everything is said at: the first language's pack's."""
        return next(iter(self.voiceboxes.values())).rate

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Finish the round being said, then stop; what waits is not said."""
        with self._wake:
            self._stop = True
            self._wake.notify()
        self._thread.join()

    def announce(self, announcement: Announcement) -> None:
        """Queue `announcement` (on the loop); a waiting one for its window gives way."""
        with self._wake:
            replaced = self._queue.put(announcement)
            self._wake.notify()
        if replaced is not None:
            self._finish(replaced, _dropped(replaced, Outcome.SUPERSEDED, "a newer call came"))

    def health(self) -> DeviceHealth:
        health = self.tracker.health
        health.counters = self.counters
        with self._wake:
            waiting = len(self._queue)
        health.details = {
            "zone": self.config.zone,
            "output": self.sink.where,
            "languages": list(self.voiceboxes),
            "waiting": waiting,
            "said": self.said,
            "dropped": self.dropped,
            "last": self.last,
            "packs": self._packs,
        }
        return health

    # -- the speaker's thread ------------------------------------------------------

    def _run(self) -> None:
        self._load()
        self._check_output()
        while True:
            with self._wake:
                if not self._stop and not self._queue:
                    self._wake.wait(self.config.retry_seconds if self._failed else None)
                if self._stop:
                    break
                announcement, expired = self._queue.take(self.context.clock())
            for old in expired:
                self._finish(old, _dropped(old, Outcome.EXPIRED, "waited too long to be said"))
            if announcement is not None:
                self._say_guarded(announcement)
            elif self._failed:
                self._check_output()

    def _load(self) -> None:
        for box in self.voiceboxes.values():
            box.load()
        self._chime, self._chime_problem = self._load_chime()

    def _load_chime(self) -> tuple[Audio | None, str | None]:
        if self.voice.chime is None:
            return chime(self.rate), None
        try:
            recorded = read_wav(self.voice.chime.read_bytes(), str(self.voice.chime))
        except (OSError, WavError) as exc:
            return chime(self.rate), f"voice.chime: {exc}; the built-in chime is used"
        return resample(recorded, self.rate), None

    def _check_output(self) -> None:
        try:
            self.sink.check()
        except SinkError as exc:
            self._output_failed(str(exc))
        else:
            self._output_works()

    def _say_guarded(self, announcement: Announcement) -> None:
        """Say `announcement`; a fault of ours fails this one call, never the
        speaker's thread (which would leave the zone silent)."""
        try:
            self._say(announcement)
        except Exception as exc:
            log.exception("speaker %s: %s for window %s failed", self.id, announcement.ticket,
                          announcement.window)  # fmt: skip
            self._finish(announcement, _dropped(announcement, Outcome.FAILED, repr(exc)))

    def _say(self, announcement: Announcement) -> None:
        sound = self._render(announcement)
        gap = silence(self.voice.phrase_gap_ms / 1000, self.rate)
        rounds, seconds = announcement.rounds_said, announcement.seconds_said
        ending: tuple[Outcome, str] | None = None
        try:
            playback = self.sink.open(announcement.label(), self.rate)
            assert self._chime is not None
            playback.write(self._chime)
            seconds += self._chime.seconds
            for round_no in range(announcement.rounds_said, announcement.repeats):
                if round_no > announcement.rounds_said:
                    ending = self._ending(announcement)
                    if ending is not None:
                        break
                playback.write(gap)
                playback.write(sound)
                rounds += 1
                seconds += gap.seconds + sound.seconds
            playback.close()
        except SinkError as exc:
            self._output_failed(str(exc))
            self._finish(announcement, Result(Outcome.FAILED, rounds, round(seconds, 3), str(exc)))
            return
        self._output_works()
        self.said += 1
        self.counters.frames_out += 1
        self.last = {
            "ticket": announcement.ticket,
            "window": announcement.window,
            "kind": announcement.kind,
            "at": self.context.clock().isoformat(),
        }
        said = replace(announcement, rounds_said=rounds, seconds_said=seconds)
        if ending is not None and ending[0] is Outcome.DEFERRED and self._defer(said):
            return
        outcome, reason = ending or (Outcome.SAID, None)
        self._finish(said, Result(outcome, rounds, round(seconds, 3), reason))

    def _ending(self, announcement: Announcement) -> tuple[Outcome, str] | None:
        """Before a repeat: stop when the hall stops or a newer call for the
        window waits; drop the call once too old to say again; give way to
        the calls waiting, so that each is heard once before any is repeated."""
        with self._wake:
            if self._stop:
                return Outcome.CUT, "the daemon stopped"
            if self._queue.has_newer(announcement):
                return Outcome.CUT, "a newer call for the window came"
            if self._queue.too_old(announcement, self.context.clock()):
                return Outcome.EXPIRED, f"older than {self.voice.max_age_seconds:g} s"
            if self._queue:
                return Outcome.DEFERRED, "other calls first"
        return None

    def _defer(self, announcement: Announcement) -> bool:
        """Put the rest of `announcement` behind the calls waiting, unless a
        newer call for its window came meanwhile."""
        with self._wake:
            if self._stop or self._queue.has_newer(announcement):
                return False
            self._queue.put(announcement)
            return True

    def _render(self, announcement: Announcement) -> Audio:
        """One round: each language's phrase, a pause between languages; a
        language none of whose words can be said is left out, pause and all."""
        token_gap = self.voice.token_gap_ms / 1000
        parts: list[Audio] = []
        for phrase in announcement.phrases:
            box = self.voiceboxes.get(phrase.language)
            spoken = box.phrase(phrase.tokens, token_gap) if box else None
            if spoken is None or not len(spoken.samples):
                continue
            if parts:
                parts.append(silence(self.voice.phrase_gap_ms / 1000, self.rate))
            parts.append(resample(spoken, self.rate))
        sound = join(parts, self.rate)
        self._report_voice()
        return sound

    def _finish(self, announcement: Announcement, result: Result) -> None:
        if result.outcome in (Outcome.SUPERSEDED, Outcome.EXPIRED) and not result.rounds:
            self.dropped += 1
        if result.outcome is Outcome.FAILED:
            self.counters.errors += 1
        if announcement.done is not None:
            self.context.loop.call_soon_threadsafe(announcement.done, result)

    # -- health, kept on the loop ----------------------------------------------------

    def _output_failed(self, reason: str) -> None:
        if not self._failed:
            log.warning("speaker %s: %s", self.id, reason)
        self._failed = True
        self._report(DeviceState.OFFLINE, reason)

    def _output_works(self) -> None:
        if self._failed:
            self.counters.reconnects += 1
        self._failed = False
        self._report_voice()

    def _report_voice(self) -> None:
        """Online, or degraded while some words cannot be said or the pack has
        problems: the hall still hears the rest."""
        self._packs = {
            language: {
                "folder": str(box.pack_folder) if box.pack_folder else None,
                "clips": len(box.pack.clips) if box.pack else 0,
                "problems": list(box.problems),
                "synthesized": sorted(box.synthesized),
                "missing": dict(box.missing),
            }
            for language, box in self.voiceboxes.items()
        }
        if self._failed:
            return
        problems = [p for box in self.voiceboxes.values() for p in box.problems]
        if self._chime_problem:
            problems.append(self._chime_problem)
        missing = [t for box in self.voiceboxes.values() for t in box.missing]
        if missing:
            problems.append(f"cannot say {', '.join(missing[:5])}" + (" …" if missing[5:] else ""))
        if problems:
            self._report(DeviceState.DEGRADED, "; ".join(problems))
        else:
            self._report(DeviceState.ONLINE, None)

    def _report(self, state: DeviceState, reason: str | None) -> None:
        def apply() -> None:
            self.tracker.set(state, reason)
            if state is not DeviceState.OFFLINE:
                self.tracker.seen()

        self.context.loop.call_soon_threadsafe(apply)


def _dropped(announcement: Announcement, outcome: Outcome, reason: str) -> Result:
    """The result of an announcement taken off the queue, said only as far
    as it got before it was deferred."""
    seconds = round(announcement.seconds_said, 3)
    return Result(outcome, announcement.rounds_said, seconds, reason)
