"""Capability profiles for the printers halls use, in python-escpos's form.

python-escpos sends a cut only when the profile says the printer has a
cutter, and many 58 mm clones map to stock profiles without one, so their
tickets never come off the roll. These profiles are for the common ESC/POS
kiosk and counter printers with an auto-cutter; a profile name python-escpos
ships (e.g. ``TM-T88V``) works too.
"""

from __future__ import annotations

from typing import Any

from escpos.capabilities import BaseProfile, get_profile

__all__ = ["PROFILES", "known_profile", "profile"]


def _profile(name: str, mm: int, pixels: int, columns: int) -> dict[str, Any]:
    return {
        "name": name,
        "vendor": "Generic",
        "notes": f"{mm} mm ESC/POS printer with an auto-cutter (Epson command set)",
        "codePages": {"0": "CP437"},
        "colors": {"0": "black"},
        "fonts": {
            "0": {"name": "Font A", "columns": columns},
            "1": {"name": "Font B", "columns": columns * 4 // 3},
        },
        "media": {"dpi": 203, "width": {"mm": mm, "pixels": pixels}},
        "features": {
            "barcodeA": True,
            "barcodeB": False,
            "bitImageColumn": True,
            "bitImageRaster": True,
            "graphics": False,
            "highDensity": True,
            "paperFullCut": True,
            "paperPartCut": True,
            "pdf417Code": False,
            "pulseBel": False,
            "pulseStandard": True,
            "qrCode": True,
            "starCommands": False,
        },
    }


PROFILES: dict[str, dict[str, Any]] = {
    "58mm": _profile("58mm", 48, 384, 32),
    "80mm": _profile("80mm", 72, 576, 48),
}


def profile(name: str) -> BaseProfile:
    """The profile called `name`: one of ours, else python-escpos's own."""
    if name in PROFILES:
        return type(f"Hallkeeper{name}Profile", (BaseProfile,), {"profile_data": PROFILES[name]})()
    return get_profile(name)


def known_profile(name: str) -> bool:
    try:
        profile(name)
    except KeyError:
        return False
    return True
