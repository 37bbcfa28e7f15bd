"""The command-line side of batched requests, the same for every paid command: options, progress, the last word.

    @batch_options
    def command(..., batch, no_wait, poll_interval, batch_retry): ...
        options = batch_from(batch, no_wait, poll_interval, batch_retry)     # None: synchronous
"""

from __future__ import annotations

import sys
from contextlib import contextmanager

import click

from modelcalls.batch import RETRIES, BatchOptions


def batch_options(f):
    """--batch, --no-wait, --poll-interval, --batch-retry."""
    options = [
        click.option("--batch", is_flag=True, help="Send the requests through the endpoint's Batch API: half the "
                     "price at OpenAI, results within 24 hours. The same command re-attaches to batches in flight."),
        click.option("--no-wait", is_flag=True, help="With --batch: submit, then exit (status 3); the same command "
                     "collects the results later."),
        click.option("--poll-interval", type=float, default=30.0, show_default=True,
                     help="With --batch: seconds between polls of the batches in flight."),
        click.option("--batch-retry", type=click.Choice(RETRIES), default="sync", show_default=True,
                     help="With --batch: send requests a batch did not answer again synchronously, or in a new batch."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def batch_from(batch: bool, no_wait: bool, poll_interval: float, batch_retry: str) -> BatchOptions | None:
    """The batch options of a command line; None without --batch (a batch-only option alone is refused)."""
    if not batch:
        if no_wait:
            raise click.UsageError("--no-wait needs --batch")
        return None
    try:
        return BatchOptions(wait=not no_wait, poll_interval_s=poll_interval, retry=batch_retry)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--poll-interval") from None


@contextmanager
def batch_bar(enabled: bool):
    """A rich bar per batch while waiting (requests completed / failed, elapsed); yields the progress
    callback of `modelcalls.batch.run_batched`, or None when disabled or not on a terminal."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[failed]} failed"), TimeElapsedColumn(),
                  console=Console(stderr=True)) as bar:
        tasks: dict[str, int] = {}

        def show(statuses, elapsed_s: float) -> None:
            for s in statuses:
                if s.batch_id not in tasks:
                    tasks[s.batch_id] = bar.add_task(s.batch_id, total=s.total or None, failed=0)
                bar.update(tasks[s.batch_id], description=f"{s.batch_id} {s.status}", completed=s.completed + s.failed,
                           total=s.total or None, failed=s.failed)

        yield show


def describe(outcome: dict, usage: dict) -> list[str]:
    """What the batches did and cost, against the synchronous price of the same responses (from a
    run's summary: `BatchOutcome.to_dict()` and `Usage.to_dict()`)."""
    lines = [f"batches: {len(outcome['submitted'])} submitted, {len(outcome['collected'])} collected; "
             f"{outcome['failed_requests']} requests unanswered by a batch ({outcome['retried_sync']} sent again "
             f"synchronously, {outcome['retried_batch']} in a new batch); {usage['batched_requests']} responses at "
             f"batch prices: ${usage['dollars']:.4f} (synchronously ${usage['sync_dollars']:.4f})"]
    if outcome["expired"]:
        lines.append(f"expired: {', '.join(outcome['expired'])} (their unanswered requests were sent again)")
    if outcome["cancelled"]:
        lines.append(f"cancelled: {', '.join(outcome['cancelled'])}: {len(outcome['unanswered'])} requests "
                     "unanswered; run the same command to submit them again")
    return lines
