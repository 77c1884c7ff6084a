"""A simulated R30x fingerprint module (R307, R503, AS608, ZFM): the module without I/O
and a pty link in front of it."""

from simulators.r30x.module import (
    DEFAULT_CAPACITY,
    FAULTS,
    FINGER_SECONDS,
    SimulatedFingerprintModule,
    Stranger,
)
from simulators.r30x.serial import SerialFingerprintLink

__all__ = [
    "DEFAULT_CAPACITY",
    "FAULTS",
    "FINGER_SECONDS",
    "SerialFingerprintLink",
    "SimulatedFingerprintModule",
    "Stranger",
]
