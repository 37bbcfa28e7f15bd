"""A live progress bar for generation: kept/N, requests in flight, kept per request, dollars, ETA."""

from __future__ import annotations

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


class LiveProgress:
    """Context manager; `update` is called by the generation loop after every event."""

    def __init__(self, target: int, console=None):
        self._bar = Progress(
            TextColumn("[bold]kept"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[in_flight]} in flight"), TextColumn("{task.fields[per_request]} kept/request"),
            TextColumn("${task.fields[dollars]:.4f}"), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            console=console, transient=False,
        )
        self._task = self._bar.add_task("generate", total=target, in_flight=0, per_request="-", dollars=0.0)

    def __enter__(self):
        self._bar.start()
        return self

    def __exit__(self, *exc):
        self._bar.stop()

    def update(self, *, kept: int, target: int, in_flight: int, requests: int, dollars: float) -> None:
        per_request = f"{kept / requests:.1f}" if requests else "-"
        self._bar.update(self._task, completed=min(kept, target), total=target, in_flight=in_flight,
                         per_request=per_request, dollars=dollars)
