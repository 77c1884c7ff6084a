"""Tables for the people who look after a hall PC (`status`, `doctor`):
rich lays out Chinese text at its real width, and leaves colour out when the
output goes to a file or a monitoring script."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

WIDTH = 120  # when not on a terminal: wide enough that rows are not folded


def console() -> Console:
    terminal = Console()
    return terminal if terminal.is_terminal else Console(width=WIDTH, no_color=True)


def table(title: str, headers: Sequence[str], rows: Sequence[Sequence[str | Text]]) -> Table:
    shown = Table(title=title, title_justify="left", show_lines=False)
    for header in headers:
        shown.add_column(header, overflow="fold")
    for row in rows:
        shown.add_row(*row)
    return shown
