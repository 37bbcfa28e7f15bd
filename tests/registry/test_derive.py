"""Derivations make child versions with the operation, counts and drops recorded."""

from __future__ import annotations

import pytest

import registry
from registry.derive import merge, sample

from .conftest import make_frame


def test_sample_keeps_order_and_records_operation(root, frame):
    registry.commit(frame, name="notes", lineage={}, root=root)
    v = sample("notes@1", into="small", n=30, seed=7, root=root)
    rows = registry.open(v.ref, root=root)
    positions = [frame["instruction"].to_list().index(t) for t in rows["instruction"]]
    assert rows.height == 30 and positions == sorted(positions)
    assert v.parents == ["notes@1"] and v.manifest["lineage"]["counts"] == {"before": 120, "after": 30}
    assert sample("notes@1", into="small2", n=30, seed=7, root=root).hash == v.hash


def test_merge_drops_exact_duplicates(root):
    a = registry.commit(make_frame(20), name="a", lineage={}, root=root)
    b = registry.commit(make_frame(20, start=10), name="b", lineage={}, root=root)
    v = merge([a.ref, b.ref], into="ab", root=root)
    assert v.rows == 30 and v.manifest["lineage"]["drops"] == {"exact_duplicate": 10}
    assert v.parents == ["a@1", "b@1"]
    assert v.manifest["storage"]["bytes_added"] < a.manifest["storage"]["bytes_added"]


def test_filter_uses_engine_rules(root):
    filters = pytest.importorskip("selfinstruct.filters", reason="needs the generation engine's filters")
    from commands.sieve_version import filter_version

    frame = make_frame(10).to_dicts()
    frame[3]["instruction"] = "Draw a picture of a cat for me please."  # Alpaca blacklist word
    frame[5]["output"] = ""
    import polars as pl

    registry.commit(pl.DataFrame(frame), name="raw", lineage={}, root=root)
    v = filter_version("raw@1", into="clean", profile="strict", root=root)
    expected = {r for r in (filters.filter_reason(rec, profile="strict") for rec in frame) if r}
    assert v.rows == 10 - sum(1 for rec in frame if filters.filter_reason(rec, profile="strict"))
    assert set(v.manifest["lineage"]["drops"]) == expected and v.rows <= 8


def test_filter_command_prints_its_drops_per_rule(root):
    import polars as pl
    from click.testing import CliRunner

    from commands.main import cli

    frame = make_frame(6).to_dicts()
    frame[1]["output"] = frame[4]["output"] = ""
    registry.commit(pl.DataFrame(frame), name="raw", lineage={}, root=root)
    result = CliRunner().invoke(cli, ["registry", "filter", "raw@1", "--into", "clean", "--registry", root])
    assert result.exit_code == 0, result.output
    assert "clean@1  4 rows from raw@1  (6 before)" in result.output
    assert "dropped: empty_output 2" in result.output


def test_dedup_uses_engine_dedup(root):
    pytest.importorskip("selfinstruct.dedup", reason="needs the generation engine's dedup")
    import polars as pl

    from commands.sieve_version import dedup_version

    rows = [{"instruction": "Write a poem about the sea.", "input": "", "output": "Waves."},
            {"instruction": "Write a poem about the sea!", "input": "", "output": "Tides."},
            {"instruction": "List three prime numbers.", "input": "", "output": "2, 3, 5"}]
    registry.commit(pl.DataFrame(rows), name="raw", lineage={}, root=root)
    v = dedup_version("raw@1", into="dedup", seeds=["List three prime numbers."], root=root)
    assert registry.open(v.ref, root=root)["output"].to_list() == ["Waves."]
    assert v.manifest["lineage"]["drops"] == {"rouge_duplicate": 2}
    assert v.manifest["lineage"]["counts"] == {"before": 3, "after": 1}


def test_select_rows_commits_what_a_callers_rule_keeps(root, frame):
    from registry.derive import select_rows

    registry.commit(frame, name="notes", lineage={}, root=root)
    v = select_rows("notes@1", into="even", root=root,
                    select=lambda f: (list(range(0, f.height, 2)), {"operation": "even rows"}))
    assert v.rows == 60 and v.parents == ["notes@1"] and v.manifest["lineage"]["operation"] == "even rows"
    assert registry.open(v.ref, root=root)["instruction"].to_list() == frame["instruction"].to_list()[::2]


def test_sieve_version_runs_checks_and_dedup_in_one_pass(root):
    pytest.importorskip("selfinstruct.decide", reason="needs the generation engine's stage")
    import polars as pl

    from commands.sieve_version import sieve_version
    from selfinstruct.sieve_options import SieveOptions

    rows = [{"instruction": f"{verb} the sea{mark}", "input": "", "output": "Blue."}
            for verb, mark in (("Write a poem about", "."), ("Write a poem about", "!"), ("Draw a picture of", "."))]
    registry.commit(pl.DataFrame(rows), name="raw", lineage={}, root=root)
    lineage = sieve_version("raw@1", into="clean", options=SieveOptions(filters="strict"), root=root).manifest["lineage"]
    assert lineage["operation"] == "sieve" and lineage["drops"] == {"rouge_duplicate": 1, "blocked_word": 1}
    assert lineage["parameters"]["profile"] == "strict" and lineage["parameters"]["rouge_threshold"] == 0.7


RIVERS = [{"instruction": "Name a long river in Africa.", "input": "", "output": "The Nile."},
          {"instruction": "Name a long river in Africa please.", "input": "", "output": "The Congo."},
          {"instruction": "Explain how long to boil an egg for a runny yolk, please.", "input": "", "output": "Six."},
          {"instruction": "List three prime numbers.", "input": "", "output": "2, 3, 5"}]


def _both_dedups(root, tmp_path, *options):
    """`registry dedup` and `selfinstruct dedup` on the same rows with the same options."""
    import json

    import polars as pl
    from click.testing import CliRunner

    from commands.main import cli

    src, out = tmp_path / "rivers.jsonl", tmp_path / "out.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in RIVERS))
    registry.commit(pl.DataFrame(RIVERS), name="rivers", lineage={}, root=root)
    run = CliRunner().invoke
    in_registry = run(cli, ["registry", "dedup", "rivers@1", "--into", "deduped", "--registry", root, *options])
    return in_registry, run(cli, ["dedup", str(src), "-o", str(out), *options]), out


@pytest.mark.parametrize("bad", [["--rouge-threshold", "0"], ["--rouge-threshold", "1.5"],
                                 ["--minhash-threshold", "0"]])
def test_both_dedup_commands_refuse_the_same_option_values(root, tmp_path, bad):
    in_registry, in_file, out = _both_dedups(root, tmp_path, *bad)
    for result in (in_registry, in_file):
        lines = [x for x in result.output.splitlines() if x.strip()]
        assert result.exit_code == 2 and len(lines) == 1 and "must be in (0, 1]" in lines[0], result.output
    assert [v.ref for v in registry.list_versions("rivers", root=root)] == ["rivers@1"]
    with pytest.raises(registry.RegistryError):
        registry.resolve("deduped@latest", root=root)
    assert not out.exists()


@pytest.mark.parametrize("seed_file", ["seeds_tiny.jsonl", "instructions_only.jsonl"])
def test_both_dedup_commands_read_seeds_alike(root, tmp_path, test_data, seed_file):
    import json

    seeds = test_data / seed_file
    if seed_file == "instructions_only.jsonl":  # enough to deduplicate against
        seeds = tmp_path / seed_file
        seeds.write_text(json.dumps({"instruction": "Explain how long to boil an egg for a runny yolk."}))
    in_registry, in_file, out = _both_dedups(root, tmp_path, "--seeds", str(seeds))
    assert in_registry.exit_code == 0 and in_file.exit_code == 0, in_registry.output + in_file.output
    kept_in_file = [json.loads(x)["instruction"] for x in out.read_text().splitlines()]
    assert registry.open("deduped@1", root=root)["instruction"].to_list() == kept_in_file
    assert kept_in_file == [RIVERS[0]["instruction"], RIVERS[3]["instruction"]]  # the egg is a seed's


def test_registry_dedup_names_the_bad_line_of_a_seed_file(root, tmp_path):
    bad = tmp_path / "seeds.jsonl"
    bad.write_text('{"instruction": "Name a river."}\n{"instruction": 7}\n')
    in_registry, in_file, _ = _both_dedups(root, tmp_path, "--seeds", str(bad))
    for result in (in_registry, in_file):
        assert result.exit_code == 2 and f"{bad}:2: field 'instruction' must be a string" in result.output, \
            result.output
