"""Credentials never reach a file or a message: URLs lose userinfo and key parameters, lineage loses
every credential-named key."""

import json
import socket

from click.testing import CliRunner

from records.redact import REDACTED, is_secret_key, redact, redact_text, redact_url
from registry.commit import commit
from commands.main import cli
from tests.loopback_server import LoopbackServer

SECRET_KEYS = ["api_key", "apikey", "API-KEY", "OPENAI_API_KEY", "X-Api-Key", "Authorization",
               "Proxy-Authorization", "token", "hf_token", "access_token", "refresh_token", "client_secret",
               "secret", "password", "AWS_SECRET_ACCESS_KEY", "openaiApiKey"]
PLAIN_KEYS = ["max_tokens", "prompt_tokens", "completion_tokens", "rouge_tokenizer", "pad_token", "model",
              "keywords", "author", "tokens", "key_field"]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_sixteen_credential_names_are_redacted_at_any_depth():
    assert len(SECRET_KEYS) == 16
    assert [k for k in SECRET_KEYS if not is_secret_key(k)] == []
    assert [k for k in PLAIN_KEYS if is_secret_key(k)] == []
    lineage = {"generator": {k: f"v-{i}" for i, k in enumerate(SECRET_KEYS)},
               "headers": {"X-Api-Key": "h"}, "steps": [{"hf_token": "t", "max_tokens": 5}],
               **{k: 1 for k in PLAIN_KEYS}}
    out = redact(lineage)
    assert set(out["generator"].values()) == {REDACTED}
    assert out["headers"] == {"X-Api-Key": REDACTED} and out["steps"] == [{"hf_token": REDACTED, "max_tokens": 5}]
    assert all(out[k] == 1 for k in PLAIN_KEYS) and lineage["headers"]["X-Api-Key"] == "h"  # input untouched


def test_urls_lose_userinfo_and_key_parameters():
    assert redact_url("https://alice:pw@gw.example:8443/v1?api-key=K&x=1&sig=S&api_key=K2&key=K3&token=T"
                      "&access_token=A&signature=G") == \
        ("https://gw.example:8443/v1?api-key=<redacted>&x=1&sig=<redacted>&api_key=<redacted>&key=<redacted>"
         "&token=<redacted>&access_token=<redacted>&signature=<redacted>")
    assert redact_url("http://127.0.0.1:8000/v1") == "http://127.0.0.1:8000/v1"
    assert redact_text("nothing at http://u:p@h:1/v1?key=K (refused)") == "nothing at http://h:1/v1?key=<redacted> (refused)"
    assert commit.__globals__["redact"] is redact  # the registry's manifests use the same rule


def test_credentials_in_the_base_url_reach_no_file_and_no_message(test_data, tmp_path):
    reg = tmp_path / "reg"
    with LoopbackServer() as server:
        url = server.url.replace("http://", "http://alice:PW-SECRET@") + "?api-key=Q-SECRET"
        env = {"OPENAI_API_KEY": "sk-KEY-SECRET"}
        run = CliRunner().invoke(cli, ["generate", "-n", "8", "--model", "m", "-o", str(tmp_path / "o.jsonl"),
                                       "--base-url", url,
                                       "--seeds", str(test_data / "seeds_tiny.jsonl"), "-q", "--dataset", "d",
                                       "--registry", str(reg)], env=env)
        assert run.exit_code == 0, run.output
        assert server.requests[0]["path"].endswith("?api-key=Q-SECRET")  # the query still reaches the server
    sheet = CliRunner().invoke(cli, ["registry", "datasheet", "d@1", "--registry", str(reg)])
    export = CliRunner().invoke(cli, ["registry", "export", "d@1", "--format", "hf", "--output", str(tmp_path / "hf"),
                                      "--registry", str(reg)])
    assert sheet.exit_code == 0 and export.exit_code == 0, sheet.output + export.output
    env["OPENAI_BASE_URL"] = f"http://bob:PW-SECRET@127.0.0.1:{closed_port()}/v1?token=Q-SECRET"
    refused = CliRunner().invoke(cli, ["generate", "-n", "8", "--model", "m", "-o", str(tmp_path / "r.jsonl"), "-q",
                                       "--seeds", str(test_data / "seeds_tiny.jsonl")], env=env)
    assert refused.exit_code == 2 and "/v1?token=<redacted>" in refused.output
    texts = [run.output, sheet.output, export.output, refused.output]
    texts += [p.read_text(errors="replace") for p in tmp_path.rglob("*") if p.is_file()]
    assert not [t for t in texts if "SECRET" in t]
    summary = json.loads((tmp_path / "o.run" / "summary.json").read_text())
    assert summary["config"]["base_url"] == server.url + "?api-key=<redacted>"
