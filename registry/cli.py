"""`selfinstruct registry ...` commands: a thin click layer over the registry's Python API."""

from __future__ import annotations

import click

from records.exits import CommandGroup
from records.files import FORMATS
from registry.cli_browse import diff_cmd, list_cmd, log_cmd, show_cmd
from registry.cli_common import current_root, json_option, print_json, root_option
from registry.cli_datasheet import datasheet_cmd
from registry.cli_derive import merge_cmd, sample_cmd


@click.group(cls=CommandGroup)
@click.option("--registry", "registry_root", metavar="PATH", envvar="SELFINSTRUCT_REGISTRY",
              help="Registry root (a folder or fsspec URL such as memory:// or s3://bucket/reg). "
                   "Default: $SELFINSTRUCT_REGISTRY, else the user data folder.")
@click.pass_context
def registry(ctx: click.Context, registry_root: str | None) -> None:
    """Versioned dataset registry: immutable versions, lineage, datasheets.

    Example: selfinstruct registry import alpaca_data.json --name alpaca
    """
    if registry_root:
        ctx.meta["registry_root"] = registry_root


@registry.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--name", required=True, help="Dataset name; the import becomes its next version.")
@click.option("--format", "fmt", default="auto", show_default=True,
              type=click.Choice(FORMATS),
              help="auto: from the suffix; a JSON line holding `messages` or `conversations` is read as a chat.")
@click.option("--parent", "parents", multiple=True, help="Parent version(s), e.g. alpaca@1.")
@click.option("--licence", "--license", "licence", help="Licence id of the data, e.g. cc-by-nc-4.0.")
@click.option("--generator", help="Model that generated the data, if known (e.g. text-davinci-003).")
@click.option("--provider", help="Provider of that model (e.g. openai).")
@click.option("--seeds", "seeds_path", type=click.Path(exists=True, dir_okay=False), help="Seed tasks file it grew from.")
@click.option("--allow-empty", is_flag=True, help="Commit a file that holds no records (refused otherwise).")
@root_option
@json_option
def import_cmd(file, name, fmt, parents, licence, generator, provider, seeds_path, allow_empty, as_json):
    """Import FILE (Alpaca JSON, JSONL, chat messages, ShareGPT, Parquet or CSV) as a new version of NAME.

    A malformed file is refused with its line and field, and nothing is committed. A conversation
    becomes a record when it is one exchange (system turn kept in a `system` field); a multi-turn
    conversation is refused, and so is a file with no records unless --allow-empty.
    Example: selfinstruct registry import data.jsonl --name alpaca --licence cc-by-nc-4.0
    """
    from registry.importing import import_file

    version = import_file(file, name=name, fmt=fmt, parents=parents, licence=licence, generator=generator,
                          provider=provider, seeds_path=seeds_path, root=current_root(), allow_empty=allow_empty)
    if as_json:
        print_json({"ref": version.ref, "hash": version.hash, "rows": version.rows,
                    "bytes_added": version.manifest["storage"]["bytes_added"]})
    else:
        added = version.manifest["storage"]["bytes_added"]
        click.echo(f"{version.ref}  {version.rows:,} rows  hash {version.hash[:12]}  {added:,} bytes added")


@registry.command("export")
@click.argument("ref")
@click.option("--format", "fmt", required=True,
              type=click.Choice(["jsonl", "alpaca-json", "messages", "sharegpt", "parquet", "hf"]))
@click.option("-o", "--output", required=True, type=click.Path(), help="File (or folder for hf) to write.")
@click.option("--system", help="System turn for messages/sharegpt lines (and the hf messages column) of rows "
                               "without a `system` field.")
@click.option("--messages", "messages_column", is_flag=True, help="hf: add a `messages` column of chat turns.")
@click.option("--layer", "layers", multiple=True, metavar="NAME",
              help="Add the score layer NAME as a column NAME (and NAME_reason when it has reasons); repeatable. "
                   "jsonl, alpaca-json, parquet and hf only.")
@root_option
@json_option
def export_cmd(ref, fmt, output, system, messages_column, layers, as_json):
    """Write REF out; `hf` writes a folder that datasets.load_dataset reads, with the datasheet as README.md.

    `messages` writes JSON Lines of {"messages": [...]} (OpenAI fine-tuning, TRL), `sharegpt` of
    {"conversations": [{"from", "value"}]}.

    \b
    Example: selfinstruct registry export alpaca@2 --format hf --output out/alpaca
             selfinstruct registry export alpaca@2 --format messages --output alpaca.jsonl
             selfinstruct registry export alpaca@2 --format jsonl --layer judge --output scored.jsonl
    """
    from registry.export import export
    from registry.versions import resolve

    version = resolve(ref, root=current_root())
    path = export(version.ref, fmt, output, root=current_root(), system=system, messages_column=messages_column,
                  layers=layers)
    if as_json:
        print_json({"ref": version.ref, "format": fmt, "output": str(path), "rows": version.rows,
                    "layers": list(dict.fromkeys(layers))})
    else:
        click.echo(f"wrote {version.ref} ({version.rows:,} rows) to {path}")


@registry.command("verify")
@click.argument("ref", required=False)
@root_option
@json_option
def verify_cmd(ref, as_json):
    """Rehash shards and rows of REF (NAME@V, NAME, or everything) and name each missing or altered file.

    Example: selfinstruct registry verify alpaca@2
    """
    from registry.verify import verify

    report = verify(ref, root=current_root())
    if as_json:
        print_json(report.to_json())
    else:
        for p in report.problems:
            click.echo(f"{p.version}: {p.problem}" + (f": {p.path}" if p.path else ""), err=True)
        if report.unsealed:
            click.echo(f"note: {len(report.unsealed)} version(s) written before manifests were sealed "
                       f"(rows checked, lineage not covered): {', '.join(report.unsealed)}", err=True)
        click.echo(f"{'ok' if report.ok else 'FAILED'}: {len(report.versions)} version(s) checked, "
                   f"{len(report.problems)} problem(s)")
    if not report.ok:
        raise SystemExit(1)


@registry.command("tag")
@click.argument("ref")
@click.argument("alias")
@click.option("--delete", is_flag=True, help="Remove ALIAS instead of moving it.")
@root_option
@json_option
def tag_cmd(ref, alias, delete, as_json):
    """Point ALIAS (e.g. stable) at REF; the move is logged. Example: selfinstruct registry tag alpaca@2 stable"""
    from registry.aliases import set_alias

    event = set_alias(ref, alias, root=current_root(), remove=delete)
    if as_json:
        print_json(event)
    else:
        name = ref.split("@")[0]
        was = f" (was @{event['previous']})" if event["previous"] else ""
        click.echo(f"{name}@{alias} removed{was}" if delete else f"{name}@{alias} -> {name}@{event['version']}{was}")


@registry.command("gc")
@click.option("--dry-run/--no-dry-run", default=True, help="Only report (default). --no-dry-run deletes.")
@click.option("--keep-last", type=click.IntRange(min=1), help="Also retire versions older than the last N "
              "per dataset (aliased versions are always kept).")
@click.option("--grace", "grace_s", type=float, default=3600, show_default=True,
              help="Seconds an unreferenced object must be old before it is removed.")
@click.option("--wait", "wait_s", type=click.FloatRange(min=0), default=600, show_default=True,
              help="Seconds to wait for commits in flight to finish before giving up (0: do not wait).")
@root_option
@json_option
def gc_cmd(dry_run, keep_last, grace_s, wait_s, as_json):
    """Remove objects no live version references (and, with --keep-last, old untagged versions).

    Example: selfinstruct registry gc --dry-run
    """
    from registry.gc import gc

    plan = gc(root=current_root(), dry_run=dry_run, keep_last=keep_last, grace_s=grace_s, wait_s=wait_s)
    if as_json:
        print_json({"dry_run": dry_run, **plan.to_json()})
        return
    verb = "would remove" if dry_run else "removed"
    click.echo(f"{verb} {len(plan.versions)} version(s), {len(plan.objects)} object(s), {plan.bytes:,} bytes")
    for v in plan.versions:
        click.echo(f"  version {v}")
    for v in plan.kept_for_alias:
        click.echo(f"  kept {v} (aliased)")


for command in (list_cmd, show_cmd, log_cmd, diff_cmd, datasheet_cmd, sample_cmd, merge_cmd):
    registry.add_command(command)
