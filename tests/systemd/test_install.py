"""systemd/install.sh into a folder (ROOT=...): the venv under /opt/hallkeeper
with the daemon in it, the config under /etc/hallkeeper, the unit (enabled),
the udev rules and the system user; run again it changes nothing it should
keep; --uninstall keeps the config and the hall's data, --purge does not."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from daemon.config.loader import check_config

REPO = Path(__file__).resolve().parents[2]
INSTALL = REPO / "systemd" / "install.sh"

pytestmark = pytest.mark.process


def install(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(INSTALL), *args],
        env={**os.environ, "ROOT": str(root), "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def files(root: Path) -> dict[str, str]:
    """Every file outside the venv, by path, with a hash of its content."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.is_relative_to(root / "opt") and path.name != ".pwd.lock"
    }


@pytest.fixture
def root(tmp_path: Path) -> Path:
    for tool in ("systemd-sysusers", "systemctl"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (Debian: apt-get install systemd)")
    if os.geteuid() != 0:
        pytest.skip("install.sh gives files to the hallkeeper user: run as root")
    return tmp_path / "root"


def test_install_twice_then_uninstall(root: Path) -> None:
    install(root)
    python = root / "opt/hallkeeper/venv/bin/python"
    assert (
        subprocess.run([python, "-m", "daemon.cli", "--help"], capture_output=True).returncode == 0
    )
    assert os.readlink(root / "usr/local/bin/hallkeeper") == "/opt/hallkeeper/venv/bin/hallkeeper"
    unit = root / "etc/systemd/system/hallkeeper.service"
    assert unit.read_text() == (REPO / "systemd/hallkeeper.service").read_text()
    assert (root / "etc/systemd/system/multi-user.target.wants/hallkeeper.service").is_symlink()
    assert (root / "etc/udev/rules.d/61-hallkeeper.rules").is_file()
    passwd = (root / "etc/passwd").read_text()
    uid = next(
        int(line.split(":")[2]) for line in passwd.splitlines() if line.startswith("hallkeeper:")
    )
    state = (root / "var/lib/hallkeeper").stat()
    assert (state.st_uid, oct(state.st_mode & 0o777)) == (uid, "0o750")
    config = root / "etc/hallkeeper/hall.yaml"
    assert oct(config.stat().st_mode & 0o777) == "0o640"
    assert "path: /var/lib/hallkeeper/hall.sqlite3" in config.read_text()
    assert "pack: /var/lib/hallkeeper/voice/zh" in config.read_text()
    assert check_config(config) == []
    if shutil.which("espeak-ng"):  # the Mandarin clip pack, the daemon's
        pack = root / "var/lib/hallkeeper/voice/zh/pack.yaml"
        assert pack.is_file() and pack.stat().st_uid == uid

    # the hall's own edits survive an upgrade; nothing else changes
    config.write_text(config.read_text() + "# this hall's edit\n")
    names = root / "etc/udev/rules.d/62-hallkeeper-names.rules"
    names.write_text('SUBSYSTEM=="tty", KERNELS=="1-1.2", SYMLINK+="hallkeeper/bus-1"\n')
    before = files(root)
    again = install(root)
    assert files(root) == before
    assert "(an example: edit it for this hall)" not in again.stdout

    install(root, "--uninstall")
    assert not (root / "opt/hallkeeper").exists() and not unit.exists()
    assert not (root / "usr/local/bin/hallkeeper").is_symlink()
    assert not (root / "etc/systemd/system/multi-user.target.wants/hallkeeper.service").exists()
    assert config.read_text().endswith("# this hall's edit\n") and names.is_file()
    assert (root / "var/lib/hallkeeper").is_dir()

    install(root, "--uninstall", "--purge")
    assert not config.exists() and not names.exists()
    assert not (root / "var/lib/hallkeeper").exists()
