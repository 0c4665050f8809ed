"""Progress bars of the command line (tqdm): rate, ETA and the terminal's width on a terminal,
nothing at all otherwise, so piped output and `--json` lines stay clean."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self, TextIO

from tqdm import tqdm


def _shorten(item: str, width: int = 40) -> str:
    """The end of a long path or id (its most telling part)."""
    return item if len(item) <= width else "…" + item[1 - width :]


class ProgressBar:
    """A bar driven by `(done, total, item)` calls, the content modules' `Progress` protocol."""

    def __init__(self, stream: TextIO, *, unit: str = "file") -> None:
        """Draw on `stream` only if it is a terminal."""
        self.stream = stream
        self.unit = unit
        self.enabled = stream.isatty()
        self.bar: tqdm[Any] | None = None

    def __call__(self, done: int, total: int, item: str) -> None:
        """Show `done` of `total`, naming the last `item`; the bar ends when all are done."""
        if not self.enabled:
            return
        if self.bar is None:
            self.bar = self._open(total)
        self.bar.total = total
        self.bar.set_postfix_str(_shorten(item), refresh=False)
        self.bar.update(done - self.bar.n)
        if done >= total:
            self.close()

    def _open(self, total: int | None, label: str | None = None) -> tqdm[Any]:
        """A new bar on the stream, as wide as the terminal (also after a resize)."""
        return tqdm(total=total, desc=label, file=self.stream, unit=self.unit, dynamic_ncols=True)

    def close(self) -> None:
        """End the bar's line (a run cut short leaves it where it stopped)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __enter__(self) -> Self:
        """Use as a context manager, so the bar is closed however the run ends."""
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        """Close the bar."""
        self.close()


class RowCounter(ProgressBar):
    """Rows copied per table, `(table, rows so far)` calls (`storage.copy.Progress`): one bar
    per table, with its count and rate (the total is not known up front)."""

    def __init__(self, stream: TextIO) -> None:
        """Count rows on `stream` if it is a terminal."""
        super().__init__(stream, unit="row")
        self.table: str | None = None

    def rows(self, table: str, rows: int) -> None:
        """Show `rows` copied so far from `table`; a new table starts a new bar."""
        if not self.enabled:
            return
        if self.bar is None or table != self.table:
            self.close()
            self.bar, self.table = self._open(None, table), table
        self.bar.update(rows - self.bar.n)
