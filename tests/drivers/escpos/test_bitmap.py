from __future__ import annotations

from pathlib import Path

import pytest

from devices.printer_config import TIBETAN_FONT
from drivers.escpos.bitmap import FontMissing, text_image

needs_font = pytest.mark.skipif(
    not TIBETAN_FONT.is_file(), reason=f"no Tibetan font at {TIBETAN_FONT}: `make` installs it"
)
NAME = "རྫོང་གཞུང་དོན་ཞབས་ཞུ་ལྟེ་གནས།"


@needs_font
def test_text_is_drawn_black_on_white_at_paper_width() -> None:
    image = text_image(NAME, TIBETAN_FONT, 28, 576)
    assert image.mode == "1" and image.width == 576
    colours = dict((colour, count) for count, colour in image.getcolors())
    assert colours[255] > colours[0] > 0, "mostly paper, some ink"


@needs_font
def test_long_text_wraps_after_a_tsheg() -> None:
    one_line = text_image(NAME, TIBETAN_FONT, 28, 576)
    wrapped = text_image(NAME, TIBETAN_FONT, 28, 200)
    assert wrapped.width == 200
    assert wrapped.height >= 2 * one_line.height


def test_a_missing_font_is_named(tmp_path: Path) -> None:
    with pytest.raises(FontMissing, match=r"no-such\.ttf"):
        text_image(NAME, tmp_path / "no-such.ttf", 28, 384)
