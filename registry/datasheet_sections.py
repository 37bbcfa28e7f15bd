"""The Datasheets for Datasets sections (Gebru et al. 2018), each a function of the facts.

Every value from a lineage, a file or a person goes through registry/escape.py (`table` escapes
its cells itself), so a licence or a human answer can never inject HTML, links or front matter.
"""

from __future__ import annotations

from records.lineage import Generator, Lineage, Prompt
from registry.datasheet_evaluations import evaluations
from registry.datasheet_layers import score_layers, selection
from registry.escape import md_answer, md_code, md_table, md_text
from registry.human import SECTIONS
from registry.uses import Use


def human(f: dict, key: str) -> str:
    answer = f["human"].get(key)
    if answer:
        origin = "" if answer["from"] == f["ref"] else f", carried from {answer['from']}"
        return f"**{SECTIONS[key]}** *(human{md_text(origin)})*\n\n{md_answer(answer['text'])}\n"
    command = md_code(f"selfinstruct registry datasheet {f['ref']} --set {key}=...")
    return f"**{SECTIONS[key]}**\n\n_Unanswered. Set it with {command}._\n"


def not_recorded(value) -> str:
    """A lineage value for people: dicts as `key=value; ...` (nested ones in braces), None as not recorded."""
    if value in (None, "", {}, []):
        return "not recorded"
    if isinstance(value, dict):
        return "; ".join(f"{k}={_inner(v)}" for k, v in value.items())
    return str(value)


def _inner(value) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_inner(v)}" for k, v in value.items()) + "}"
    return "null" if value is None else str(value)


def motivation(f: dict) -> str:
    return "## Motivation\n\n" + "\n".join(human(f, k) for k in ("motivation", "creators", "funding"))


def composition(f: dict) -> str:
    s = f["stats"]
    out = ["## Composition\n",
           f"Each instance is an instruction-following demonstration with the fields "
           f"{', '.join(md_text(c) for c in f['columns'])}. "
           f"The version holds **{f['rows']:,}** instances; {s.get('share_with_input', 0):.1%} have a non-empty input, "
           f"of which {s.get('placeholder_inputs', 0):,} are placeholders such as {md_code('No input')} or "
           f"{md_code('<noinput>')}, so "
           f"{s.get('share_with_real_input', 0):.1%} have a real input; {s.get('empty_outputs', 0):,} have an empty "
           f"output and {s.get('duplicate_instructions', 0):,} repeat an instruction already present. Mean input "
           f"length: {s.get('input_words_mean', 0):.2f} words over all instances, "
           f"{s.get('input_words_mean_real', 0):.2f} over instances with a real input (Self-Instruct's convention).\n"]
    for p in f["parent_share"]:
        if p.get("shared") is not None:
            out.append(f"Shared with input {md_text(p['parent'])}: {p['shared']:,} rows ({p['share']:.1%} of this "
                       "version).\n")
    out.append("Length in words (whitespace-separated tokens):\n")
    out.append(md_table(["field", "min", "p25", "median", "p75", "max", "mean"],
                     [[c, *(d.get(k, "") for k in ("min", "p25", "median", "p75", "max", "mean"))]
                      for c, d in f["lengths"].items()]))
    v = f["verbs"]
    out.append(f"Leading verbs of instructions ({v['parsed_share']:.1%} of instructions start with a verb by a "
               f"heuristic parse; {v['distinct_verbs']:,} distinct verbs). Top verbs and their most frequent objects:\n")
    out.append(md_table(["verb", "count", "top objects"],
                     [[t["verb"], t["count"], ", ".join(f"{o['object']} ({o['count']})" for o in t["objects"])]
                      for t in v["top_verbs"]]))
    n = f["novelty"]
    if n:
        used = f"a random sample of {n['rows_used']:,} of {n['rows_total']:,}" if n["sampled"] else f"all {n['rows_used']:,}"
        out.append(f"Novelty: ROUGE-L F of each instruction to its most similar seed instruction ({used} instructions, "
                   f"{n['seeds']} seeds from {md_code(n['seed_file'])}; mean {n['mean']}):\n")
        out.append(md_table(["ROUGE-L", "instructions"],
                         [[f"{n['bins'][i]:.1f}-{n['bins'][i + 1]:.1f}", c] for i, c in enumerate(n["counts"])]))
    else:
        out.append("Novelty against seeds: not computed (no seed file recorded or given; pass `--seeds PATH`).\n")
    return "\n".join(out)


def collection(f: dict) -> str:
    own = Lineage.from_dict(f["lineage"])
    origin = f.get("origin") or {"ref": f["ref"], "lineage": f["lineage"]}
    lin = Lineage.from_dict(origin["lineage"])  # how the rows were collected, recorded where they entered
    gen, prompt = lin.generator or Generator(), lin.prompt or Prompt()
    rows = [("Operation", not_recorded(own.operation)),
            ("Collected in", origin["ref"] + ("" if origin["ref"] == f["ref"] else " (an ancestor)")),
            ("Generator model", not_recorded(gen.model)), ("Provider", not_recorded(gen.provider)),
            *([("Response model", gen.response.get("model"))] if gen.response else []),
            *([("Method", lin.method)] if lin.method else []),
            ("Endpoint host", not_recorded(gen.endpoint_host)), ("API", not_recorded(gen.api)),
            ("Decoding", not_recorded(gen.decoding)),
            ("Prompt sha256", not_recorded(prompt.sha256)),
            ("In-context examples", not_recorded(lin.in_context)),
            ("Seed set", not_recorded(lin.seeds.to_dict() if lin.seeds else None)),
            ("Random seed", not_recorded(lin.random_seed)),
            ("Usage", not_recorded(lin.usage)), ("Time window", not_recorded(lin.time_window)),
            ("Run directory", not_recorded(lin.run_dir)), ("Source", not_recorded(lin.source)),
            ("Parameters", not_recorded(own.parameters)),
            ("Software", ", ".join(f"{k} {v}" for k, v in f["software"].items() if v))]
    return "## Collection process\n\n" + md_table(["", ""], rows)


def preprocessing(f: dict) -> str:
    lin = Lineage.from_dict(f["lineage"])
    out = ["## Preprocessing and cleaning\n"]
    if lin.operation == "select":
        out.append(selection(f))
        return "\n".join(out)
    counts, drops, filters = lin.counts or {}, lin.drops or {}, lin.filters or {}
    if not (counts or drops or filters):
        out.append("No filtering or cleaning recorded for this version's operation.\n")
    if counts:
        out.append(md_table(["stage", "rows"], [[k, v] for k, v in counts.items()]))
    if filters:
        out.append(md_table(["filter setting", "value"], [[k, "off" if v is None else not_recorded(v)]
                                                      for k, v in filters.items()]))
    if drops:
        out.append(md_table(["rule", "rows dropped"], sorted(drops.items(), key=lambda kv: -kv[1])))
    return "\n".join(out)


def uses(f: dict) -> str:
    out = ["## Uses\n"]
    if f["uses"]:
        out.append("Recorded uses of this version:\n")
        uses = [Use.from_dict(u) for u in f["uses"]]
        out.append(md_table(["kind", "model", "output", "recipe", "started"],
                         [[not_recorded(u.kind), not_recorded(u.model), not_recorded(u.output),
                           not_recorded(u.recipe), not_recorded(u.started or u.recorded)] for u in uses]))
    else:
        out.append("No recorded uses of this version yet.\n")
    out.append(human(f, "intended_uses"))
    out.append(human(f, "ethics"))
    return "\n".join(out)


def distribution(f: dict) -> str:
    out = ["## Distribution\n", f"Declared licence (Hub `license`): {md_code(f['hub_licence'])}. "
           f"Effective use class from the inherited conditions: **{f['use_class']}**.\n"]
    if f["conditions"]:
        out.append(md_table(["source", "condition", "use class"],
                         [[c["source"], c["text"], c["use_class"]] for c in f["conditions"]]))
    else:
        out.append("No licence, seed set or generator terms recorded, so the use class is unspecified.\n")
    out.append(f"Exports: {md_code('selfinstruct registry export ' + f['ref'] + ' --format jsonl|alpaca-json|parquet|hf')}.\n")
    out.append(human(f, "distribution"))
    return "\n".join(out)


def maintenance(f: dict) -> str:
    out = ["## Maintenance\n", f"Hosted in the registry at {md_code(f['registry'])}. Versions are immutable; "
           "`registry gc` never removes a version that an alias names.\n",
           f"Later versions derived from this one: {md_text(', '.join(f['children']) or 'none')}.\n"]
    out += [human(f, "maintenance"), human(f, "contact"), human(f, "other")]
    return "\n".join(out)


SECTION_RENDERERS = (motivation, composition, collection, preprocessing, score_layers, uses, evaluations, distribution, maintenance)
