"""API tokens: hashed at rest, 0600, shown once, reread when the file changes."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import yaml

from daemon import tokens as tokens_module
from daemon.cli import main
from daemon.config.model import HallConfig
from daemon.tokens import Role, TokenFile


def test_a_token_is_stored_only_as_a_hash_in_a_private_file(tmp_path: Path) -> None:
    file = TokenFile(tmp_path / "secrets.yaml")
    entry, token = file.add(Role.CLERK, staff="s1", label="window 1 tablet")
    text = file.path.read_text()
    assert token not in text and token.split("_", 2)[2] not in text  # the secret may hold "_"
    assert stat.S_IMODE(file.path.stat().st_mode) == 0o600
    assert file.verify(token) == entry and entry.role is Role.CLERK and entry.staff == "s1"


def test_wrong_forged_and_revoked_tokens_are_refused(tmp_path: Path) -> None:
    file = TokenFile(tmp_path / "secrets.yaml")
    entry, token = file.add(Role.ADMIN)
    assert file.verify(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert file.verify("hk_00000000_x") is None and file.verify("Bearer") is None
    assert file.revoke(entry.id) and not file.revoke(entry.id)
    assert file.verify(token) is None


def test_a_token_added_by_another_process_is_seen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tokens_module, "RELOAD_INTERVAL", 0.0)
    daemon_side = TokenFile(tmp_path / "secrets.yaml")
    daemon_side.ensure_exists()
    assert daemon_side.verify("hk_x_y") is None
    _, token = TokenFile(tmp_path / "secrets.yaml").add(Role.KIOSK)
    assert daemon_side.verify(token) is not None


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
def test_root_adding_a_token_leaves_the_file_to_the_daemons_user(tmp_path: Path) -> None:
    daemon_user = 64123  # the file is the daemon's, as in /var/lib/hallkeeper
    os.chown(tmp_path, daemon_user, daemon_user)
    TokenFile(tmp_path / "secrets.yaml").ensure_exists()
    assert (tmp_path / "secrets.yaml").stat().st_uid == daemon_user
    TokenFile(tmp_path / "secrets.yaml").add(Role.MONITOR)  # an admin's `sudo hallkeeper token add`
    info = (tmp_path / "secrets.yaml").stat()
    assert (info.st_uid, info.st_gid) == (daemon_user, daemon_user)
    assert stat.S_IMODE(info.st_mode) == 0o600


def test_ensure_exists_creates_an_empty_private_file(tmp_path: Path) -> None:
    file = TokenFile(tmp_path / "etc" / "secrets.yaml")
    file.ensure_exists()
    assert yaml.safe_load(file.path.read_text()) == {"tokens": []}
    assert stat.S_IMODE(file.path.stat().st_mode) == 0o600


def config_file(config: HallConfig, tmp_path: Path) -> str:
    return str(tmp_path / "hall.yaml")  # written by the make_config fixture


def test_token_add_prints_the_token_once(
    config: HallConfig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = config_file(config, tmp_path)
    assert main(["token", "add", "--config", path, "--role", "clerk", "--staff", "s1"]) == 0
    out, err = capsys.readouterr()
    token = out.strip()
    assert TokenFile(config.secrets).verify(token).staff == "s1"
    assert "not shown again" in err
    assert main(["token", "list", "--config", path]) == 0
    listing = capsys.readouterr().out
    assert "clerk" in listing and "s1" in listing and token not in listing


@pytest.mark.parametrize(
    "args",
    [
        ["--role", "clerk"],  # a clerk token needs a staff member
        ["--role", "admin", "--staff", "s1"],
        ["--role", "clerk", "--staff", "nobody"],
    ],
)
def test_token_add_refuses_inconsistent_requests(
    config: HallConfig, tmp_path: Path, args: list[str]
) -> None:
    assert main(["token", "add", "--config", config_file(config, tmp_path), *args]) == 2
    assert not config.secrets.exists()
