"""Browsing commands: list, show, log, diff."""

from __future__ import annotations

import json

import click

from records.lineage import Lineage
from records.schema import RECORD_FIELDS
from registry.cli_common import (console, current_root, json_option, print_json, rich_table,
                                 root_option, short)


@click.command("list")
@root_option
@json_option
def list_cmd(as_json):
    """Datasets with their versions, rows, creation times and aliases. Example: selfinstruct registry list"""
    from registry.browse import list_summary

    skipped: list[str] = []
    data = list_summary(root=current_root(), skipped=skipped)
    for line in skipped:
        click.echo(f"warning: skipped {line}", err=True)
    if as_json:
        return print_json(data)
    if not data:
        from registry.versions import as_store

        return click.echo(f"no datasets yet in {as_store(current_root()).url}")
    rows = [[d["name"], len(d["versions"]), v["number"], f"{v['rows']:,}", v["created"], v["hash"][:12],
             ", ".join(v["aliases"]) + (" latest" if v is d["versions"][-1] else "")]
            for d in data for v in d["versions"]]
    console().print(rich_table("registry", ["dataset", "versions", "version", "rows", "created", "hash", "aliases"],
                               rows))


@click.command("show")
@click.argument("ref")
@click.option("--sample", "sample_rows", default=3, show_default=True, help="Sample rows to print.")
@root_option
@json_option
def show_cmd(ref, sample_rows, as_json):
    """Summary, lineage, statistics and sample rows of REF. Example: selfinstruct registry show alpaca@2"""
    from registry.browse import show

    data = show(ref, root=current_root(), sample=sample_rows)
    for line in data["damaged_layers"]:
        click.echo(f"warning: left out a damaged score layer: {line}", err=True)
    if as_json:
        return print_json(data)
    c = console()
    c.print(rich_table(f"{data['ref']}", ["", ""], [
        ["hash", data["hash"]], ["rows", f"{data['rows']:,}"], ["created", data["created"]],
        ["parents", ", ".join(data["parents"]) or "none"], ["aliases", ", ".join(data["aliases"]) or "none"],
        ["operation", Lineage.from_dict(data["lineage"]).operation or ""],
        ["stored", f"{data['bytes_added']:,} bytes added"]]))
    c.print(rich_table("lineage", ["key", "value"], [[k, short(v, 90)] for k, v in data["lineage_flat"].items()]))
    c.print(rich_table("statistics", ["statistic", "value"], [[k, v] for k, v in data["stats"].items()]))
    c.print(rich_table("sample", list(RECORD_FIELDS),
                       [[short(r["instruction"]), short(r["input"], 30), short(r["output"])] for r in data["sample"]]))
    if data["layers"]:
        c.print(rich_table("score layers", LAYER_COLUMNS, layer_rows(data["layers"])))
    if data["trained_models"]:
        from registry.evaluations import EVALUATION_COLUMNS, evaluation_rows

        c.print(rich_table("models trained on this version", EVALUATION_COLUMNS, evaluation_rows(data["trained_models"])))


LAYER_COLUMNS = ["layer", "scorer", "records", "scored", "missing", "reused", "mean score"]


def layer_rows(layers: list[dict]) -> list[list]:
    """`registry show`'s score layers table: counts are of distinct records."""
    from registry.layer_facts import scorer_line

    return [[s["name"], scorer_line(s), f"{s['records']:,}", f"{s['scored']:,}", f"{s['missing']:,}",
             f"{s['reused']:,}", "n/a" if s["mean"] is None else f"{s['mean']:.3f}"] for s in layers]


@click.command("log")
@click.argument("name")
@root_option
@json_option
def log_cmd(name, as_json):
    """Versions of NAME and alias moves, oldest first. Example: selfinstruct registry log alpaca"""
    from registry.browse import log

    events = log(name, root=current_root())
    if as_json:
        return print_json(events)
    rows = [[e["time"], e["kind"], e["ref"], e.get("detail", "")] for e in events]
    console().print(rich_table(f"log of {name}", ["time", "event", "version", "detail"], rows))


@click.command("diff")
@click.argument("a")
@click.argument("b")
@click.option("--show", "show", multiple=True, type=click.Choice(["added", "removed", "changed"]),
              help="Write these rows, one JSON object a line (repeatable; default with --output: all three).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the differing rows as JSON Lines to this file.")
@root_option
@json_option
def diff_cmd(a, b, show, output, as_json):
    """Rows added, removed and changed from A to B (by record hash), statistic and lineage deltas.

    Example: selfinstruct registry diff alpaca@1 alpaca@2 --show changed --output changed.jsonl
    """
    from registry.diff import KINDS, compare, diff_rows, summarize

    comparison = compare(a, b, root=current_root())
    if show or output:
        rows = diff_rows(comparison, show or KINDS)
        if output:
            write_jsonl(rows, output)
            click.echo(f"wrote {len(rows):,} rows ({', '.join(show or KINDS)}) to {output}", err=True)
            if not as_json:
                return None
        else:
            for r in rows:
                click.echo(json.dumps(r, ensure_ascii=False, default=str))
            return None
    d = summarize(comparison)
    if as_json:
        return print_json(d)
    c = console()
    c.print(f"{d['a']} -> {d['b']}: [green]+{d['added']:,} added[/] [red]-{d['removed']:,} removed[/] "
            f"[yellow]~{d['changed']:,} changed[/] ={d['unchanged']:,} unchanged")
    c.print(f"changed fields: {d['changed_fields']}; pairing: {d['pairing']}")
    c.print(rich_table("statistics", ["statistic", d["a"], d["b"], "delta"],
                       [[k, v["a"], v["b"], v["delta"]] for k, v in d["stats"].items()]))
    if d["lineage"]:
        c.print(rich_table("lineage differences", ["key", d["a"], d["b"]],
                           [[k, short(v["a"], 50), short(v["b"], 50)] for k, v in d["lineage"].items()]))


def write_jsonl(rows: list[dict], output: str) -> None:
    from pathlib import Path

    path = Path(output)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False, default=str) + "\n")
