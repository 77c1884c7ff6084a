"""Where announcements are played: an ALSA device (through aplay), WAV files,
or nowhere.

A sink plays one announcement at a time as a `Playback`: `write` takes the
next part and returns about when it has been heard (so the speaker can
decide, between the rounds of an announcement, whether to go on), and
`close` waits for the end of the sound. The file and null sinks take as long
as the sound would (unless `realtime` is off), so an announcement queue
behaves in a simulated hall as it does with a loudspeaker.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Protocol

from drivers.audio.pcm import Audio, join, silence, wav_bytes

APLAY = "aplay"
DRAIN_MARGIN = 5.0  # seconds aplay may take beyond the sound to finish
PROBE_SECONDS = 0.05
PLAYED_LOG = "played.jsonl"


class SinkError(Exception):
    """The sound could not be played; the message says why (device, errno)."""


class Playback(Protocol):
    def write(self, audio: Audio) -> None: ...

    def close(self) -> None: ...


class Sink(Protocol):
    where: str  # for health: the ALSA device, the folder, "null"

    def open(self, label: str, rate: int) -> Playback: ...

    def check(self) -> None:
        """Raise SinkError if the sink cannot play now."""


# -- ALSA ----------------------------------------------------------------------------


class AlsaSink:
    """An ALSA device, through `aplay` reading raw samples from a pipe: the
    pipe fills as the device plays, which paces the writes."""

    def __init__(self, device: str) -> None:
        self.device = device
        self.where = f"alsa:{device}"

    def open(self, label: str, rate: int) -> AlsaPlayback:
        executable = shutil.which(APLAY)
        if executable is None:
            raise SinkError("aplay is not installed (Debian package alsa-utils)")
        command = [executable, "-q", "-D", self.device, "-t", "raw", "-f", "S16_LE"]
        command += ["-r", str(rate), "-c", "1"]
        try:
            process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
        except OSError as exc:
            raise SinkError(f"aplay -D {self.device}: {exc}") from exc
        return AlsaPlayback(process, self.device)

    def check(self) -> None:
        playback = self.open("probe", 22050)
        playback.write(silence(PROBE_SECONDS, 22050))
        playback.close()


class AlsaPlayback:
    def __init__(self, process: subprocess.Popen[bytes], device: str) -> None:
        self.process = process
        self.device = device
        self.seconds = 0.0

    def write(self, audio: Audio) -> None:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(audio.samples.astype("<i2").tobytes())
            self.process.stdin.flush()
        except BrokenPipeError:
            self._fail()
        self.seconds += audio.seconds

    def close(self) -> None:
        assert self.process.stdin is not None
        with contextlib.suppress(BrokenPipeError):  # aplay is gone: its exit says why
            self.process.stdin.close()
        try:
            self.process.wait(timeout=self.seconds + DRAIN_MARGIN)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise SinkError(f"aplay -D {self.device} did not finish: the device hangs") from None
        if self.process.returncode != 0:
            self._fail()

    def _fail(self) -> None:
        self.process.kill()
        self.process.wait()
        assert self.process.stderr is not None
        lines = self.process.stderr.read().decode("utf-8", errors="replace").strip().splitlines()
        raise SinkError(f"aplay -D {self.device}: {lines[-1] if lines else 'failed'}")


# -- files ---------------------------------------------------------------------------


class FileSink:
    """Each announcement as a WAV file in `folder`, and a line in
    `played.jsonl` saying when it started and ended; the oldest files go once
    there are more than `keep`."""

    def __init__(self, folder: Path, realtime: bool = True, keep: int = 500) -> None:
        self.folder = folder
        self.realtime = realtime
        self.keep = keep
        self.where = f"file:{folder}"

    def open(self, label: str, rate: int) -> FilePlayback:
        self.check()
        return FilePlayback(self, label, rate)

    def check(self) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            probe = self.folder / ".probe"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise SinkError(f"cannot write to {self.folder}: {exc.strerror or exc}") from exc

    def save(self, label: str, audio: Audio, started: dt.datetime, ended: dt.datetime) -> None:
        name = f"{started:%Y%m%d-%H%M%S-%f}-{_safe(label)}.wav"
        entry = {
            "file": name,
            "label": label,
            "started": started.isoformat(),
            "ended": ended.isoformat(),
            "seconds": round(audio.seconds, 4),
        }
        try:
            (self.folder / name).write_bytes(wav_bytes(audio))
            with (self.folder / PLAYED_LOG).open("a", encoding="utf-8") as log:
                log.write(json.dumps(entry, ensure_ascii=False) + "\n")
            for old in sorted(self.folder.glob("*.wav"))[: -self.keep]:
                old.unlink()
        except OSError as exc:
            raise SinkError(f"cannot write to {self.folder}: {exc.strerror or exc}") from exc


class FilePlayback:
    def __init__(self, sink: FileSink, label: str, rate: int) -> None:
        self.sink = sink
        self.label = label
        self.rate = rate
        self.parts: list[Audio] = []
        self.started = dt.datetime.now().astimezone()

    def write(self, audio: Audio) -> None:
        self.parts.append(audio)
        if self.sink.realtime:
            time.sleep(audio.seconds)

    def close(self) -> None:
        ended = dt.datetime.now().astimezone()
        self.sink.save(self.label, join(self.parts, self.rate), self.started, ended)


# -- nowhere -------------------------------------------------------------------------


class NullSink:
    """Plays into nothing, taking the time the sound would take."""

    where = "null"

    def __init__(self, realtime: bool = True) -> None:
        self.realtime = realtime

    def open(self, label: str, rate: int) -> NullPlayback:
        return NullPlayback(self.realtime)

    def check(self) -> None:
        return None


class NullPlayback:
    def __init__(self, realtime: bool) -> None:
        self.realtime = realtime

    def write(self, audio: Audio) -> None:
        if self.realtime:
            time.sleep(audio.seconds)

    def close(self) -> None:
        return None


def _safe(label: str) -> str:
    """`label` as part of a file name."""
    return re.sub(r"[^\w.-]+", "_", label)[:60]
