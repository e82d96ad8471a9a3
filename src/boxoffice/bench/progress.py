"""Progress on stderr: live bars on a terminal, only one plain line per finished step otherwise (CI logs)."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Callable
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn


class Display:
    def __init__(self, steps: int, console: Console | None = None) -> None:
        # isatty, not rich's guess: FORCE_COLOR in a CI environment must not bring bars into a log.
        self.console = console or Console(stderr=True, force_terminal=sys.stderr.isatty())
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description:32}"),
            BarColumn(),
            TextColumn("{task.completed:>7.0f}/{task.total:<7.0f} {task.fields[unit]}"),
            TimeElapsedColumn(),
            console=self.console,
            disable=not self.console.is_terminal,
            transient=True,
        )
        self._overall = self._progress.add_task("benchmark", total=steps, unit="steps")

    def __enter__(self) -> Display:
        self._progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._progress.stop()

    @contextlib.asynccontextmanager
    async def step(self, description: str, total: float, unit: str, count: Callable[[], float]) -> AsyncIterator[None]:
        """Show `count()` of `total` while the body runs; the step counts as done afterwards."""
        task = self._progress.add_task(description, total=total, unit=unit)

        async def tick() -> None:
            while True:
                self._progress.update(task, completed=count())
                await asyncio.sleep(0.2)

        ticker = asyncio.create_task(tick())
        try:
            yield
        finally:
            ticker.cancel()
            self._progress.remove_task(task)
            self._progress.advance(self._overall)

    def note(self, line: str) -> None:
        """A finished step's figures, above the bars (or alone when stderr is not a terminal)."""
        self.console.print(line, markup=False, highlight=False, soft_wrap=True)
