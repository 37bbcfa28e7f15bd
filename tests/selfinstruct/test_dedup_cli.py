import json

from click.testing import CliRunner

from commands.main import cli


def test_dedup_command_keeps_input_order_and_reports_collisions(tmp_path, test_data):
    records = [
        {"instruction": "Give three tips for staying healthy.", "input": "", "output": "Sleep, eat well, move."},
        {"instruction": "Name the largest ocean on Earth.", "input": "", "output": "The Pacific."},
        {"instruction": "Give three tips for staying very healthy.", "input": "", "output": "Rest."},
        {"instruction": "Explain how long to boil an egg for a runny yolk please.", "input": "", "output": "Six."},
        {"instruction": "Describe the water cycle in simple words.", "input": "", "output": "Water goes round."},
    ]
    src = tmp_path / "in.json"
    src.write_text(json.dumps(records, indent=2))
    out, dropped = tmp_path / "out.jsonl", tmp_path / "dropped.jsonl"
    r = CliRunner().invoke(cli, ["dedup", str(src), "-o", str(out), "--dropped", str(dropped),
                                 "--seeds", str(test_data / "seeds_tiny.jsonl"), "--json"])
    assert r.exit_code == 0, r.output
    kept = [json.loads(x)["instruction"] for x in out.read_text().splitlines()]
    assert kept == [records[i]["instruction"] for i in (0, 1, 4)]
    gone = [json.loads(x) for x in dropped.read_text().splitlines()]
    assert [g["collided_with"] for g in gone] == ["Give three tips for staying healthy.",
                                                  "Explain how long to boil an egg for a runny yolk."]
    assert json.loads(r.output)["drops"] == {"rouge_duplicate": 2}


def test_dedup_command_names_the_bad_line(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"instruction": "Name a river.", "output": "Nile"}\n{"instruction": "", "output": "x"}\n')
    r = CliRunner().invoke(cli, ["dedup", str(src), "-o", str(tmp_path / "o.jsonl")])
    assert r.exit_code == 2 and f"{src}:2: field 'instruction' is empty" in r.output
    assert not (tmp_path / "o.jsonl").exists()


def test_dedup_command_minhash_names_the_kept_twin(tmp_path):
    body = ("The quarterly report shows revenue rising by twelve percent while costs fell slightly, "
            "driven by strong sales in the northern region and lower shipping prices across the year.")
    records = [
        {"instruction": "Summarize the report below in one sentence.", "input": body, "output": "Revenue rose."},
        {"instruction": "Give me a short summary of this text please.", "input": body, "output": "Revenue rose."},
        {"instruction": "List three prime numbers greater than fifty.", "input": "", "output": "53, 59, 61"},
    ]
    src, out, dropped = tmp_path / "in.jsonl", tmp_path / "out.jsonl", tmp_path / "dropped.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in records))
    r = CliRunner().invoke(cli, ["dedup", str(src), "-o", str(out), "--dropped", str(dropped),
                                 "--minhash-threshold", "0.6", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["drops"] == {"minhash_duplicate": 1}
    gone = json.loads(dropped.read_text())
    assert gone["record_index"] == 1 and gone["collided_with"] == records[0]["instruction"]
