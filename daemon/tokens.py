"""API bearer tokens, kept only as SHA-256 hashes in the hall's secrets file.

A token reads `hk_<id>_<secret>`: the id finds the entry, the secret (256
random bits) is checked against its hash. The plain token is shown once,
when it is made. The file is written atomically with mode 0600 and reread
when it changes, so `hallkeeper token add` works on a running daemon.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import os
import secrets
import stat
import tempfile
import time
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path

import yaml

log = logging.getLogger(__name__)

RELOAD_INTERVAL = 1.0


class Role(StrEnum):
    ADMIN = "admin"
    MONITOR = "monitor"  # reads everything, changes nothing
    CLERK = "clerk"  # acts on the window its clerk is signed in to
    KIOSK = "kiosk"  # issues tickets, takes ratings
    DISPLAY = "display"  # reads the queue and the event feed


@dataclass(frozen=True)
class TokenEntry:
    id: str
    role: Role
    staff: str | None
    sha256: str
    created: str
    label: str | None = None


class TokenFileError(Exception):
    pass


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._entries: dict[str, TokenEntry] = {}
        self._signature: tuple[int, int] | None = None
        self._checked = 0.0

    def ensure_exists(self) -> None:
        """Create an empty secrets file (0600) if there is none; warn if others can read it."""
        if not self.path.exists():
            self._write([])
        mode = stat.S_IMODE(self.path.stat().st_mode)
        if mode & 0o077:
            log.warning("%s has mode %o: other users can read the token hashes", self.path, mode)

    def entries(self) -> list[TokenEntry]:
        self._reload()
        return list(self._entries.values())

    def add(
        self, role: Role, staff: str | None = None, label: str | None = None
    ) -> tuple[TokenEntry, str]:
        """Make a token; returns its entry and the plain token, which is not kept."""
        token_id = secrets.token_hex(4)
        token = f"hk_{token_id}_{secrets.token_urlsafe(32)}"
        created = dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds")
        entry = TokenEntry(token_id, role, staff, _digest(token), created, label)
        self._write([*self.entries(), entry])
        return entry, token

    def revoke(self, token_id: str) -> bool:
        kept = [e for e in self.entries() if e.id != token_id]
        if len(kept) == len(self._entries):
            return False
        self._write(kept)
        return True

    def verify(self, token: str) -> TokenEntry | None:
        parts = token.split("_", 2)
        if len(parts) != 3 or parts[0] != "hk":
            return None
        self._reload_if_due()
        entry = self._entries.get(parts[1])
        if entry is None or not hmac.compare_digest(entry.sha256, _digest(token)):
            return None
        return entry

    def _reload_if_due(self) -> None:
        if time.monotonic() - self._checked >= RELOAD_INTERVAL:
            self._reload()

    def _reload(self) -> None:
        self._checked = time.monotonic()
        try:
            info = self.path.stat()
        except FileNotFoundError:
            self._entries, self._signature = {}, None
            return
        signature = (info.st_mtime_ns, info.st_size)
        if signature == self._signature:
            return
        self._entries = {e.id: e for e in self._read()}
        self._signature = signature

    def _read(self) -> list[TokenEntry]:
        try:
            data = yaml.safe_load(self.path.read_text(encoding="utf-8")) or {}
            return [
                TokenEntry(**{**item, "role": Role(item["role"])})
                for item in data.get("tokens") or []
            ]
        except (OSError, yaml.YAMLError, TypeError, KeyError, ValueError, AttributeError) as exc:
            raise TokenFileError(f"cannot read the secrets file {self.path}: {exc}") from exc

    def _write(self, entries: list[TokenEntry]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = {"tokens": [{**asdict(e), "role": e.role.value} for e in entries]}
        text = "# hallkeeper API tokens, as SHA-256 hashes; see `hallkeeper token --help`\n"
        text += yaml.safe_dump(body, allow_unicode=True, sort_keys=False)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".secrets-")
        try:
            os.fchmod(fd, 0o600)
            if os.geteuid() == 0:  # root's `token add` must not take the file from the daemon
                owner = self.path if self.path.exists() else self.path.parent
                info = owner.stat()
                os.fchown(fd, info.st_uid, info.st_gid)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._reload()
