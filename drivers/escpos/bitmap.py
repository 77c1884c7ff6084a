"""Text in scripts a printer has no font for (Tibetan, Uyghur), drawn with
Pillow into a 1-bit image the width of the paper.

Tibetan stacks need OpenType shaping, which Pillow does with its Raqm
layout engine (in Pillow's wheels); without it the text is still drawn, with
basic layout.
"""

from __future__ import annotations

import functools
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, features

__all__ = ["FontMissing", "text_image"]

LINE_SPACING = 1.35  # of the font size
TSHEG = "\u0f0b"  # the Tibetan syllable mark: a line may break after it


class FontMissing(Exception):
    """The font for image text cannot be loaded."""


@functools.lru_cache(maxsize=8)
def _font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    layout = ImageFont.Layout.RAQM if features.check("raqm") else ImageFont.Layout.BASIC
    try:
        return ImageFont.truetype(str(path), size, layout_engine=layout)
    except OSError as exc:
        raise FontMissing(f"cannot load the font {path}: {exc}") from exc


def _pieces(text: str) -> list[str]:
    """Where a line may break: after spaces and after tshegs."""
    pieces, current = [], ""
    for char in text:
        current += char
        if char in (" ", TSHEG):
            pieces.append(current)
            current = ""
    if current:
        pieces.append(current)
    return pieces


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines: list[str] = []
    line = ""
    for piece in _pieces(text):
        if line and font.getlength(line + piece) > width:
            lines.append(line.rstrip())
            line = piece.lstrip()
        else:
            line += piece
    if line.strip():
        lines.append(line.rstrip())
    return lines


def text_image(text: str, font_path: Path, size: int, width: int) -> Image.Image:
    """`text` centred in lines no wider than `width` dots, black on white, mode "1"."""
    font = _font(font_path, size)
    lines = _wrap(text, font, width) or [""]
    pitch = round(size * LINE_SPACING)
    image = Image.new("L", (width, pitch * len(lines)), 255)
    draw = ImageDraw.Draw(image)
    for row, line in enumerate(lines):
        draw.text((width / 2, row * pitch + pitch / 2), line, font=font, fill=0, anchor="mm")
    return image.convert("1", dither=Image.Dither.NONE)
