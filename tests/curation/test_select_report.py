"""`registry select` without --json prints the new version in one line, as every derivation does."""

from __future__ import annotations

from click.testing import CliRunner

from commands.main import cli
from tests.curation.score_server import ScoreServer
from tests.curation.test_score_layers import commit, records, score


def test_select_reports_the_new_version_and_its_parents_rows(tmp_path):
    v = commit(records(10), tmp_path)
    with ScoreServer() as server:
        assert score(tmp_path, v.ref, server).exit_code == 0
    r = CliRunner().invoke(cli, ["registry", "select", v.ref, "--top", "4", "--by", "judge", "--into", "best",
                                 "--registry", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert r.output == f"best@1  4 rows from {v.ref}  (10 before)\n"
