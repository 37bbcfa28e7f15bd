"""`registry datasheet`: print, edit or export a version's datasheet."""

from __future__ import annotations

import click

from registry.cli_common import current_root, json_option, print_json, root_option


def _parse_sets(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in values:
        key, sep, text = item.partition("=")
        if not sep:
            raise click.BadParameter(f"expected section=text, got {item!r}", param_hint="--set")
        out[key.strip()] = text
    return out


def _edit_template(sections: dict, answers: dict) -> str:
    lines = ["# Edit the answers below each '## section' line; leave one empty to keep it unanswered.", ""]
    for key, question in sections.items():
        lines += [f"## {key}", f"# {question}", answers.get(key, {}).get("text", ""), ""]
    return "\n".join(lines)


def _parse_template(text: str) -> dict[str, str]:
    out, key, buf = {}, None, []
    for line in text.splitlines() + ["## <end>"]:
        if line.startswith("## "):
            if key:
                out[key] = "\n".join(buf).strip()
            key, buf = line[3:].strip(), []
        elif not line.startswith("#") and key:
            buf.append(line)
    out.pop("<end>", None)
    return out


@click.command("datasheet")
@click.argument("ref")
@click.option("--set", "sets", multiple=True, metavar="SECTION=TEXT", help="Answer a human question.")
@click.option("--edit", is_flag=True, help="Edit the human answers in $EDITOR.")
@click.option("--html", "html_out", type=click.Path(dir_okay=False), help="Write a self-contained HTML page.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the Markdown here instead of stdout.")
@click.option("--seeds", "seeds_path", type=click.Path(exists=True, dir_okay=False),
              help="Seed tasks file for the novelty histogram (default: the one the lineage records).")
@root_option
@json_option
def datasheet_cmd(ref, sets, edit, html_out, output, seeds_path, as_json):
    """Render REF's datasheet (Hub YAML + Datasheets for Datasets), or set its human answers.

    Example: selfinstruct registry datasheet alpaca@2 --set motivation="Research on instruction following"
    """
    from registry.human import SECTIONS, human_sections, set_sections
    from registry.outputs import atomic_output, check_output
    from registry.versions import resolve

    for path in (html_out, output):  # refused before any work
        if path:
            check_output(path)
    root = current_root()
    version = resolve(ref, root=root)
    if sets or edit:
        updates = _parse_sets(sets)
        if edit:
            text = click.edit(_edit_template(SECTIONS, human_sections(version, root=root)))
            if text is not None:
                updates.update({k: v for k, v in _parse_template(text).items() if k in SECTIONS})
        own = set_sections(version.ref, updates, root=root)
        return print_json({"ref": version.ref, "sections": own}) if as_json else click.echo(
            f"{version.ref}: answered {', '.join(sorted(own)) or 'nothing'}")
    from registry.datasheet import render_markdown
    from registry.facts import collect_facts

    facts = collect_facts(version, root=root, seeds_path=seeds_path)
    if html_out:
        from registry.datasheet_html import write_html

        write_html(facts, html_out)
    markdown = render_markdown(version, root=root, facts=facts)
    if as_json:
        slim = {k: v for k, v in facts.items() if k != "length_values"}
        if slim.get("novelty"):
            slim["novelty"] = {k: v for k, v in slim["novelty"].items() if k != "values"}
        return print_json({"facts": slim, "markdown": markdown, "html": html_out})
    if output:
        with atomic_output(output) as tmp:
            tmp.write_text(markdown, encoding="utf-8")
        click.echo(f"wrote {output}" + (f" and {html_out}" if html_out else ""))
    elif html_out:
        click.echo(f"wrote {html_out}")
    else:
        click.echo(markdown, nl=False)
