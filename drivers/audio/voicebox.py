"""The words of one language as sound: a clip from the language's pack, or,
for a token the pack lacks, espeak-ng's reading of it, brought to the pack's
sample rate and loudness so the joins do not jump."""

from __future__ import annotations

import statistics
from pathlib import Path

import numpy as np

from drivers.audio.espeak import Espeak, SynthesisError
from drivers.audio.pack import ClipPack, PackError, load_pack
from drivers.audio.pcm import Audio, join, resample, scaled, silence

SYNTHESIS_RATE = 22050  # espeak-ng's; the rate of a language without a pack
HEADROOM = 0.95  # of full scale: a louder synthesized word is not clipped


class Voicebox:
    """Used from one speaker's thread only."""

    def __init__(
        self, language: str, pack: Path | None, synthesis: str | None, speed: int = 150
    ) -> None:
        self.language = language
        self.pack_folder = pack
        self.synthesizer = Espeak(synthesis, speed) if synthesis else None
        self.pack: ClipPack | None = None
        self.problems: list[str] = []  # what is wrong with the pack
        self.missing: dict[str, str] = {}  # tokens that cannot be said, and why
        self.synthesized: set[str] = set()
        self._cache: dict[str, Audio] = {}
        self._level: float | None = None

    @property
    def rate(self) -> int:
        return self.pack.rate if self.pack else SYNTHESIS_RATE

    def load(self) -> None:
        """Read the pack; what is wrong with it goes to `problems`."""
        self.problems.clear()
        self._cache.clear()
        self.missing.clear()
        self.pack = None
        if self.pack_folder is None:
            return
        try:
            pack = load_pack(self.pack_folder)
        except PackError as exc:
            self.problems.append(str(exc))
            return
        if pack.language != self.language:
            self.problems.append(
                f"{self.pack_folder}: a pack for {pack.language!r}, used for {self.language!r}"
            )
        self.problems += pack.problems
        self.pack = pack
        levels = [clip.rms() for clip in pack.clips.values() if clip.rms() > 0]
        self._level = statistics.median(levels) if levels else None

    def say(self, token: str) -> Audio | None:
        """The token's sound, or None (with the reason in `missing`)."""
        if token in self._cache:
            return self._cache[token]
        clip = self.pack.clip(token) if self.pack else None
        if clip is None:
            clip = self._synthesize(token)
        if clip is not None:
            self._cache[token] = clip
        return clip

    def phrase(self, tokens: tuple[str, ...], gap_seconds: float) -> Audio:
        """The tokens that can be said, with `gap_seconds` of silence between."""
        parts: list[Audio] = []
        for token in tokens:
            clip = self.say(token)
            if clip is None:
                continue
            if parts:
                parts.append(silence(gap_seconds, self.rate))
            parts.append(clip)
        return join(parts, self.rate)

    def _synthesize(self, token: str) -> Audio | None:
        if self.synthesizer is None:
            self.missing[token] = f"not in the {self.language} pack, and no synthesis"
            return None
        try:
            spoken = resample(self.synthesizer.say(token), self.rate)
        except SynthesisError as exc:
            self.missing[token] = f"not in the {self.language} pack, and {exc}"
            return None
        self.synthesized.add(token)
        self.missing.pop(token, None)
        return self._as_loud_as_the_pack(spoken)

    def _as_loud_as_the_pack(self, spoken: Audio) -> Audio:
        """`spoken` at the pack's loudness, as far as it goes without clipping."""
        level = spoken.rms()
        peak = int(np.abs(spoken.samples.astype(np.int32)).max(initial=0))
        if self._level is None or level == 0:
            return spoken
        return scaled(spoken, min(self._level / level, HEADROOM * 32767 / peak))
