"""A stable path for a simulated serial port: a symlink to its current pty,
as udev gives a real adapter a /dev/hallkeeper/... name. Unplugging and
replugging makes a new pty; the path follows it."""

from __future__ import annotations

import os
from pathlib import Path


def point_path_at(path: Path, target: str) -> None:
    """Make `path` a symlink to `target` atomically, replacing a symlink but nothing else."""
    if os.path.lexists(path) and not path.is_symlink():
        raise FileExistsError(f"{path} exists and is not a symlink; not replacing it")
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{id(target)}")
    os.symlink(target, temporary)
    try:
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def remove_path(path: Path, target: str | None) -> None:
    """Remove the symlink `path` if it still points at `target`."""
    try:
        if target is not None and os.readlink(path) == target:
            os.unlink(path)
    except OSError:
        pass
