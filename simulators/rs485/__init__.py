"""Simulators of the RS-485 hall bus: a pty-backed bus and the FF68 and IMM devices on it."""

from simulators.rs485.bus import SimulatedBus
from simulators.rs485.devices import KEYS, LEVELS, KeypadSim, PadSim, ScreenSim
from simulators.rs485.port import BusDevice

__all__ = ["KEYS", "LEVELS", "BusDevice", "KeypadSim", "PadSim", "ScreenSim", "SimulatedBus"]
