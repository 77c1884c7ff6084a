"""`hallkeeper say` and `hallkeeper voice-pack`."""

from __future__ import annotations

import sys
from pathlib import Path

from daemon.admin_client import CommandFailed, admin_post
from daemon.config.loader import load_config
from daemon.voice.pack_maker import PackRefused, make_pack
from daemon.voice.script import pack_tokens

SAY_TIMEOUT = 150.0  # the daemon waits up to 120 s for its speakers


def say(config_path: Path, ticket: str, window: int, speaker: str | None, token: str | None) -> int:
    """Ask the running daemon to say `ticket` for `window`; print what each speaker did."""
    config = load_config(config_path)
    body: dict[str, object] = {"ticket": ticket, "window": window}
    if speaker is not None:
        body["speaker"] = speaker
    try:
        answer = admin_post(config, "/api/v1/announcements", body, token, SAY_TIMEOUT)
    except CommandFailed as exc:
        _error("say", str(exc))
        return exc.code
    failed = False
    for result in answer["results"]:
        line = f"{result['speaker']}: {result['outcome']}"
        if result["outcome"] in ("said", "cut"):
            line += f", {result['rounds']} time(s), {result['seconds']:.1f} s"
        if result.get("reason"):
            line += f" ({result['reason']})"
        print(line)
        failed = failed or result["outcome"] not in ("said", "cut")
    return 1 if failed else 0


def voice_pack(
    config_path: Path, language: str, out: Path | None, list_only: bool, force: bool
) -> int:
    """Make the `language` pack of the config's voice with espeak-ng, or list its tokens."""
    config = load_config(config_path)
    tokens = pack_tokens(config.voice, language)
    if list_only:
        for token in tokens:
            print(f"{token}.wav")
        return 0
    folder = out or config.voice.speech_of(language).pack
    if folder is None:
        _error("voice-pack", f"give --out, or voice.speech.{language}.pack in {config_path}")
        return 2
    try:
        report = make_pack(config.voice, language, folder, force)
    except PackRefused as exc:
        _error("voice-pack", str(exc))
        return 1
    print(f"{report.folder}: {report.clips} clips ({report.source})")
    if report.unsure:
        print(
            f"note: espeak-ng read these in another voice; check them by ear or record them: "
            f"{', '.join(report.unsure)}"
        )
    return 0


def _error(command: str, message: str) -> None:
    print(f"hallkeeper {command}: {message}", file=sys.stderr)
