"""The `hallkeeper` command."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import uvloop

from daemon.config.loader import ConfigError, check_config, load_config, notes_of
from daemon.config.model import HallConfig
from daemon.events.zmq_feed import FeedError
from daemon.store.store import StoreError
from daemon.tokens import Role, TokenFile

DEFAULT_CONFIG = Path(os.environ.get("HALLKEEPER_CONFIG", "/etc/hallkeeper/hall.yaml"))
#: Seconds a thread holds the GIL while others wait (Python's default is 5 ms).
#: The daemon runs a thread per bus beside its event loop; a bus thread woken
#: by a key frame would otherwise wait up to 5 ms for each hand-over on the
#: way to the screen, and between its last look at the line and its write.
SWITCH_INTERVAL = 0.0005

log = logging.getLogger(__name__)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    # `sim` has a parser of its own; argparse would take `sim --help` as its own option
    args, rest = parser.parse_known_args(argv)
    if rest and getattr(args, "handler", None) is not _sim:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if rest:
        args.args = rest + args.args
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    logging.basicConfig(  # force: python-escpos calls basicConfig() when imported
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        return int(args.handler(args) or 0)
    except ConfigError as exc:
        print(f"hallkeeper: the config has problems:\n{exc}", file=sys.stderr)
        return 1
    except (StoreError, FeedError) as exc:
        print(f"hallkeeper: {exc}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hallkeeper", description="Runs a service hall's queue and devices."
    )
    sub = parser.add_subparsers(metavar="COMMAND")

    run = sub.add_parser("run", help="run the daemon")
    _config_option(run)
    run.add_argument(
        "--simulate",
        action="store_true",
        help="also run a simulator for every configured device, and print a demo admin token",
    )
    run.set_defaults(handler=_run)

    simulate = sub.add_parser(
        "simulate",
        help="run the simulators of every configured device as a separate process, and write "
        "an overlay config for `run`",
    )
    _config_option(simulate)
    simulate.add_argument(
        "--folder",
        type=Path,
        help="for the overlay hall.yaml, ptys and sockets (default: sim/ beside the store)",
    )
    simulate.add_argument(
        "--control",
        metavar="ENDPOINT",
        help="control endpoint for `sim` (default: $HALLKEEPER_SIM_CONTROL or "
        "tcp://127.0.0.1:5558)",
    )
    simulate.set_defaults(handler=_simulate)

    status = sub.add_parser(
        "status",
        help="devices and queues of the running daemon; exit 1 if a device is not online, "
        "2 if the daemon does not answer",
    )
    _config_option(status)
    status.add_argument("--json", action="store_true", help="print the status as JSON")
    status.set_defaults(handler=_status)

    doctor = sub.add_parser("doctor", help="check this PC for what keeps the hall's devices away")
    _config_option(doctor)
    doctor.add_argument(
        "--user", default="hallkeeper", help="the user the daemon runs as (default: hallkeeper)"
    )
    doctor.set_defaults(handler=_doctor)

    enroll = sub.add_parser("enroll", help="enrol a staff member's finger through a reader")
    _config_option(enroll)
    enroll.add_argument("--staff", required=True, help="staff id")
    enroll.add_argument("--reader", required=True, help="reader device id")
    enroll.add_argument("--page", type=int, help="template page (default: the first free one)")
    enroll.add_argument("--token", help="an admin token (default: $HALLKEEPER_TOKEN)")
    enroll.set_defaults(handler=_enroll)

    say = sub.add_parser("say", help="say a number on the speakers of a running daemon (a test)")
    _config_option(say)
    say.add_argument("ticket", help="the number to say, e.g. A001")
    say.add_argument("--window", type=int, required=True, help="the window it is called to")
    say.add_argument("--speaker", help="only this speaker (default: every one of the window)")
    say.add_argument("--token", help="an admin token (default: $HALLKEEPER_TOKEN)")
    say.set_defaults(handler=_say)

    pack = sub.add_parser("voice-pack", help="make a clip pack with espeak-ng, or list its tokens")
    _config_option(pack)
    pack.add_argument("--language", default="zh", help="the language of the pack (default zh)")
    pack.add_argument(
        "--out", type=Path, help="the pack's folder (default: voice.speech.LANG.pack)"
    )
    pack.add_argument("--list", action="store_true", help="list the tokens a pack holds, and stop")
    pack.add_argument("--force", action="store_true", help="replace a recorded pack in --out")
    pack.set_defaults(handler=_voice_pack)

    check = sub.add_parser("check-config", help="check a config file and list every problem")
    check.add_argument("file", type=Path)
    check.set_defaults(handler=_check_config)

    token = sub.add_parser("token", help="make, list and revoke API tokens")
    token_sub = token.add_subparsers(metavar="ACTION", required=True)
    add = token_sub.add_parser("add", help="make a token and print it, once")
    _config_option(add)
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--staff", help="the clerk's staff id (role clerk)")
    add.add_argument("--label", help="a note on who holds the token")
    add.set_defaults(handler=_token_add)
    listing = token_sub.add_parser("list", help="list tokens (never the tokens themselves)")
    _config_option(listing)
    listing.set_defaults(handler=_token_list)
    revoke = token_sub.add_parser("revoke", help="revoke a token by its id")
    _config_option(revoke)
    revoke.add_argument("id")
    revoke.set_defaults(handler=_token_revoke)

    day = sub.add_parser("day", help="play a compressed day of the simulated hall and check it")
    _config_option(day)
    day.add_argument(
        "--day", type=Path, help="day file (crowd, clerks, faults); see config/day.yaml"
    )
    day.add_argument("--speed", type=float, help="hall seconds per real second")
    day.add_argument("--seed", type=int, help="seed of the crowd and the random faults")
    day.add_argument(
        "--folder", type=Path, help="empty folder for the run (default: a temporary one)"
    )
    day.add_argument("--json", action="store_true", help="print the summary and checks as JSON")
    day.set_defaults(handler=_day)
    sim = sub.add_parser("sim", help="drive the simulated devices (sim --help)", add_help=False)
    sim.add_argument("args", nargs=argparse.REMAINDER)
    sim.set_defaults(handler=_sim)

    bench = sub.add_parser("bench", help="measure the hall and print JSON")
    bench_sub = bench.add_subparsers(metavar="WHAT", required=True)
    core = bench_sub.add_parser("core", help="ticket issue rate and call-next latency via the API")
    core.add_argument("--tickets", type=int, default=3000, help="tickets to issue")
    core.add_argument("--concurrency", type=int, default=32, help="requests in flight")
    core.add_argument("--calls", type=int, default=1000, help="call-next requests to time")
    core.set_defaults(handler=_bench_core)
    bus = bench_sub.add_parser("bus", help="key press to screen on one simulated RS-485 bus")
    bus.add_argument("--windows", type=int, default=32, help="windows (3 devices each)")
    bus.add_argument("--seconds", type=float, default=900.0, help="how long to press keys")
    bus.add_argument(
        "--rate", type=float, default=0.2, help="call key presses per second on the bus"
    )
    bus.add_argument("--baud", type=int, default=9600)
    bus.set_defaults(handler=_bench_bus)
    printing = bench_sub.add_parser(
        "print", help="kiosk request to ticket cut on simulated USB, TCP and serial printers"
    )
    printing.add_argument("--tickets", type=int, default=200, help="tickets per link and kind")
    printing.set_defaults(handler=_bench_print)
    mqtt = bench_sub.add_parser(
        "mqtt", help="events to an MQTT subscriber through mosquitto and the embedded broker"
    )
    mqtt.add_argument("--backlog", type=int, default=10000, help="events sent in one go")
    mqtt.add_argument("--latency-events", type=int, default=300, help="events timed one by one")
    mqtt.set_defaults(handler=_bench_mqtt)
    hall = bench_sub.add_parser(
        "hall", help="a whole hall: key to screen, ticket to cut, rating to store, CPU, RSS"
    )
    hall.add_argument(
        "--windows", type=_positive_int, default=33, help="windows (a screen, keypad and pad each)"
    )
    hall.add_argument("--minutes", type=_positive_float, default=2.0, help="minutes measured")
    hall.add_argument("--seed", type=int, default=1, help="seed of the citizens and clerks")
    hall.add_argument(
        "--windows-per-bus",
        type=_windows_per_bus,
        default=32,
        help="windows to an RS-485 bus, 1 to 32 (fewer: more buses, each quieter)",
    )
    hall.add_argument(
        "--probe-seconds",
        type=_positive_float,
        default=60.0,
        help="seconds between the re-sends of each screen and the probes of each keypad "
        "and pad (longer: fewer frames on the buses, a dead device noticed later); a bus "
        "of 32 windows spaces them to 120 s at the least itself",
    )
    hall.add_argument(
        "--service-seconds",
        type=_positive_float,
        default=300.0,
        help="seconds a clerk serves a citizen on average (sets the pace of calls)",
    )
    hall.add_argument(
        "--folder",
        type=_folder,
        help="where to make the scratch hall, its store included (default: the system's "
        "temporary folder); on tmpfs the store's commits wait for no disk",
    )
    hall.set_defaults(handler=_bench_hall)
    disk = bench_sub.add_parser(
        "disk", help="how often this disk holds up a store commit (the tail of every call)"
    )
    disk.add_argument(
        "--folder",
        type=_folder,
        default=Path(),
        help="a folder on the disk the store will live on (a scratch store is made there)",
    )
    disk.add_argument("--minutes", type=_positive_float, default=10.0, help="minutes measured")
    disk.add_argument(
        "--rate",
        type=_positive_float,
        default=4.0,
        help="commits per second (4: a hall of 300 windows in full swing, about 7,400 in "
        "30 minutes)",
    )
    disk.set_defaults(handler=_bench_disk)
    stop = bench_sub.add_parser("stop", help="how long SIGTERM takes under load (TimeoutStopSec)")
    stop.add_argument("--runs", type=int, default=5, help="stops to time")
    stop.add_argument("--load-seconds", type=float, default=10.0, help="load before each stop")
    stop.add_argument("--clients", type=int, default=16, help="clients issuing and calling")
    stop.set_defaults(handler=_bench_stop)
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def _windows_per_bus(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 32:
        raise argparse.ArgumentTypeError(f"must be 1 to 32, got {text}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


def _folder(text: str) -> Path:
    path = Path(text)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"no such folder: {text}")
    return path


def _config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=DEFAULT_CONFIG,
        help=f"hall config file (default: $HALLKEEPER_CONFIG or {DEFAULT_CONFIG})",
    )


def _run(args: argparse.Namespace) -> int:
    from daemon.lifecycle import StartupError, run_daemon

    try:
        config = load_config(args.config)
    except ConfigError as exc:  # EX_CONFIG: systemd does not restart on it (the unit says so)
        print(f"hallkeeper: the config has problems:\n{exc}", file=sys.stderr)
        return os.EX_CONFIG
    for note in notes_of(args.config):
        log.warning("%s", note.render(str(args.config)))
    sys.setswitchinterval(SWITCH_INTERVAL)
    # Once up, gc.freeze() leaves what startup built (modules, config, devices)
    # out of the collector's full passes, which otherwise hold every thread for
    # 80-90 ms in a hall of 300 windows (seen with gc.callbacks under bench hall).
    hall = run_daemon(config, simulate=args.simulate, config_path=args.config, on_ready=gc.freeze)
    try:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(hall)
    except StartupError as exc:
        print(f"hallkeeper: {exc}", file=sys.stderr)
        return 1
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from daemon.simulate.command import simulate_command

    sys.setswitchinterval(SWITCH_INTERVAL)  # the simulated buses keep byte timing too
    return simulate_command(args.config, args.folder, args.control)


def _status(args: argparse.Namespace) -> int:
    from daemon.status_command import NO_ANSWER, status_command

    try:
        config = load_config(args.config)
    except ConfigError as exc:  # 1 would say "a device is not online"
        print(f"hallkeeper: the config has problems:\n{exc}", file=sys.stderr)
        return NO_ANSWER
    return status_command(config, args.json)


def _doctor(args: argparse.Namespace) -> int:
    from daemon.doctor import doctor_command

    return doctor_command(args.config, args.user)


def _enroll(args: argparse.Namespace) -> int:
    from daemon.enrol_command import enroll

    return enroll(load_config(args.config), args.staff, args.reader, args.page, args.token)


def _say(args: argparse.Namespace) -> int:
    from daemon.voice.commands import say

    return say(args.config, args.ticket, args.window, args.speaker, args.token)


def _voice_pack(args: argparse.Namespace) -> int:
    from daemon.voice.commands import voice_pack

    return voice_pack(args.config, args.language, args.out, args.list, args.force)


def _check_config(args: argparse.Namespace) -> int:
    problems = check_config(args.file)
    for problem in problems:
        print(problem.render(str(args.file)))
    if problems:
        print(f"{len(problems)} problem(s) in {args.file}", file=sys.stderr)
        return 1
    for note in notes_of(args.file):
        print(note.render(str(args.file)))
    print(f"{args.file}: ok")
    return 0


def _token_file(config: HallConfig) -> TokenFile:
    return TokenFile(config.secrets)


def _token_add(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    role = Role(args.role)
    if role is Role.CLERK and not args.staff:
        print("hallkeeper: a clerk token needs --staff ID", file=sys.stderr)
        return 2
    if args.staff and role is not Role.CLERK:
        print("hallkeeper: --staff is only for --role clerk", file=sys.stderr)
        return 2
    if args.staff and args.staff not in config.staff_by_id:
        print(f"hallkeeper: no staff member {args.staff!r} in {args.config}", file=sys.stderr)
        return 2
    entry, token = _token_file(config).add(role, args.staff, args.label)
    print(token)
    print(
        f"(token {entry.id}, role {role}{f', staff {args.staff}' if args.staff else ''}; "
        f"it is not shown again)",
        file=sys.stderr,
    )
    return 0


def _token_list(args: argparse.Namespace) -> int:
    for entry in _token_file(load_config(args.config)).entries():
        staff = entry.staff or "-"
        print(f"{entry.id}  {entry.role:<8} {staff:<10} {entry.created}  {entry.label or ''}")
    return 0


def _token_revoke(args: argparse.Namespace) -> int:
    if _token_file(load_config(args.config)).revoke(args.id):
        print(f"revoked {args.id}")
        return 0
    print(f"hallkeeper: no token with id {args.id}", file=sys.stderr)
    return 1


def _day(args: argparse.Namespace) -> int:
    from daemon.day.run import run_day

    overrides = {"speed": args.speed, "seed": args.seed}
    return run_day(args.config, args.day, args.folder, overrides, args.json)


def _sim(args: argparse.Namespace) -> int:
    from simulators.control import sim_command

    return sim_command(args.args)


def _bench_bus(args: argparse.Namespace) -> int:
    from daemon.bench.bus import run_bus_bench

    run_bus_bench(args.windows, args.seconds, args.rate, args.baud)
    return 0


def _bench_hall(args: argparse.Namespace) -> int:
    from daemon.bench.hall import run_hall_bench

    return run_hall_bench(
        args.windows,
        args.minutes,
        args.seed,
        args.service_seconds,
        args.windows_per_bus,
        args.probe_seconds,
        args.folder,
    )


def _bench_disk(args: argparse.Namespace) -> int:
    from daemon.bench.disk import run_disk_bench

    run_disk_bench(args.folder, args.minutes, args.rate)
    return 0


def _bench_mqtt(args: argparse.Namespace) -> int:
    from daemon.bench.mqtt import run_mqtt_bench

    run_mqtt_bench(args.backlog, args.latency_events)
    return 0


def _bench_print(args: argparse.Namespace) -> int:
    from daemon.bench.printing import run_print_bench

    run_print_bench(args.tickets)
    return 0


def _bench_stop(args: argparse.Namespace) -> int:
    from daemon.bench.stop import run_stop_bench

    run_stop_bench(args.runs, args.load_seconds, args.clients)
    return 0


def _bench_core(args: argparse.Namespace) -> int:
    from daemon.bench.core import run_core_bench

    run_core_bench(tickets=args.tickets, concurrency=args.concurrency, calls=args.calls)
    return 0


if __name__ == "__main__":
    sys.exit(main())
