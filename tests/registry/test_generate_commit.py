"""`selfinstruct generate --dataset NAME` lands in the registry with the run's lineage and a full datasheet."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import registry
from registry.datasheet import render_markdown

pytest.importorskip("selfinstruct.generate", reason="needs the generation engine")
from commands.main import cli  # noqa: E402
from tests.loopback_server import LoopbackServer  # noqa: E402


@pytest.fixture
def server():
    with LoopbackServer() as s:
        yield s


def test_generate_commits_version_with_lineage(server, test_data, tmp_path, root):
    env = {"OPENAI_API_KEY": "sk-test-never-stored", "OPENAI_BASE_URL": server.url}
    seeds = str(test_data / "seeds_tiny.jsonl")
    r = CliRunner().invoke(cli, ["generate", "-n", "20", "--model", "loopback-model", "-o", str(tmp_path / "g.jsonl"),
                                 "--seeds", seeds, "--dataset", "grown", "--registry", root, "-q"], env=env)
    assert r.exit_code == 0, r.output
    v = registry.resolve("grown", root=root)
    lineage = v.manifest["lineage"]
    assert v.rows == 20 and lineage["operation"] == "generate" and lineage["counts"]["kept"] == 20
    assert lineage["generator"]["model"] == "loopback-model" and lineage["seeds"]["sha256"]
    assert "sk-test-never-stored" not in json.dumps(v.manifest)
    kept = [json.loads(x) for x in (tmp_path / "g.jsonl").read_text().splitlines()]
    assert registry.open(v.ref, root=root)["instruction"].to_list() == [k["instruction"] for k in kept]
    md = render_markdown(v, root=root)
    assert "annotations_creators:\n- machine-generated" in md
    assert "Novelty: ROUGE-L F" in md and "loopback-model" in md  # the lineage's seed file is found


def test_a_registry_root_that_cannot_be_written_is_refused_before_any_request(server, test_data, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    env = {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": server.url}
    r = CliRunner().invoke(cli, ["generate", "-n", "5", "--model", "loopback-model", "-o", str(tmp_path / "g.jsonl"),
                                 "--seeds", str(test_data / "seeds_tiny.jsonl"), "--dataset", "grown",
                                 "--registry", str(blocker / "reg"), "-q"], env=env)
    assert r.exit_code == 2, r.output
    assert f"registry root {blocker / 'reg'}" in r.output and "Traceback" not in r.output
    assert server.requests == [] and not (tmp_path / "g.run").exists()
