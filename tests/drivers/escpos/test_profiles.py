from __future__ import annotations

import pytest
from escpos.printer import Dummy

from drivers.escpos.profiles import PROFILES, known_profile, profile


@pytest.mark.parametrize("name", list(PROFILES))
def test_our_profiles_cut(name: str) -> None:
    printer = Dummy()
    printer.profile = profile(name)
    printer.cut()
    assert printer.output.endswith(b"\x1dV\x00")


def test_python_escpos_profiles_are_known_too() -> None:
    assert known_profile("TM-T88V") and not known_profile("no-such-printer")
    assert profile("58mm").media["width"]["pixels"] == 384
    assert profile("80mm").media["width"]["pixels"] == 576
