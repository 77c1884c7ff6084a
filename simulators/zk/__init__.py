"""Simulated ZKTeco attendance terminals: the terminal model without I/O, its TCP
link (port 4370 protocol), and an ADMS pusher for terminals that push over HTTP.

For the simulator control and the simulated hall, as the printers are done:

* ``link = TerminalLink(SimulatedTerminal(id, users=[User(uid, user_id, name)]))``,
  ``link.start()`` / ``link.stop()``; the host finds it at ``link.url``
  (``tcp://127.0.0.1:PORT``) once started.
* ``sim list``: ``link.describe()``; ``sim show``: ``link.snapshot()``.
* ``sim fault TERMINAL reboot|silent|ok``: ``link.terminal.set_fault(kind)``
  (`FAULTS`; ValueError for another kind).
* A punch: ``link.terminal.punch(user_id, status=1, punch=0)`` (ValueError for a
  user who is not enrolled).
* ``pusher = AdmsPusher(base_url, serial_number)``: ``start()``, ``stop()``,
  ``punch(user_id, when=None, status=0, verify=1)``, ``describe()``, ``snapshot()``.

Their threads are named ``sim-terminal-<id>`` and ``sim-adms-<id>``.
"""

from simulators.zk.adms import AdmsPunch, AdmsPusher
from simulators.zk.link import TerminalLink
from simulators.zk.terminal import FAULTS, SimulatedTerminal, User

__all__ = ["FAULTS", "AdmsPunch", "AdmsPusher", "SimulatedTerminal", "TerminalLink", "User"]
