"""One keep/drop stage: generation's sieve, `dedup` and the registry derivations decide alike."""

from __future__ import annotations

import json

import pytest

from records.errors import InputError
from records.seeds import read_seed_instructions
from selfinstruct.config import GenerateConfig
from selfinstruct.decide import sieve_records
from selfinstruct.seeds import load_seeds
from selfinstruct.sieve import Sieve
from selfinstruct.sieve_options import SieveOptions

BODY = ("The quarterly report shows revenue rising by twelve percent while costs fell slightly, "
        "driven by strong sales in the northern region and lower shipping prices across the year.")
RECORDS = [
    {"instruction": "Summarize the report below in one sentence.", "input": BODY, "output": "Revenue rose."},
    {"instruction": "Summarize the report below in one short sentence.", "input": BODY, "output": "Costs fell."},
    {"instruction": "Give me a short summary of this text please.", "input": BODY, "output": "Revenue rose."},
    {"instruction": "Draw a picture of a lighthouse at night.", "input": "", "output": "A tall tower."},
    {"instruction": "List three prime numbers greater than fifty.", "input": "", "output": ""},
    {"instruction": "Explain how long to boil an egg for a runny yolk, please.", "input": "", "output": "Six."},
    {"instruction": "Name the largest ocean on Earth today.", "input": "", "output": "The Pacific."},
]
SEEDS = ["Explain how long to boil an egg for a runny yolk."]


def test_generation_sieve_and_sieve_records_make_the_same_decisions():
    options = SieveOptions(filters="strict", minhash_threshold=0.6)
    sieve = Sieve(SEEDS, options)
    for record in RECORDS:
        sieve.admit(dict(record))
    sieved = sieve_records(RECORDS, options, seeds=SEEDS)
    assert [r["instruction"] for r in sieve.kept] == [RECORDS[i]["instruction"] for i in sieved.kept]
    assert [{k: v for k, v in d.items() if k != "record_index"} for d in sieved.dropped] == sieve.dropped
    assert sieve.stats.drops == sieved.drops == {"rouge_duplicate": 2, "minhash_duplicate": 1,
                                                 "blocked_word": 1, "empty_output": 1}


def test_a_minhash_drop_names_the_instruction_it_collided_with_in_generation_too():
    sieve = Sieve([], SieveOptions(filters=None, minhash_threshold=0.6))
    for record in (RECORDS[0], RECORDS[6], RECORDS[2]):
        sieve.admit(dict(record))
    (drop,) = sieve.dropped
    assert drop["drop_reason"] == "minhash_duplicate" and drop["collided_with"] == RECORDS[0]["instruction"]


@pytest.mark.parametrize(("fields", "words"), [
    ({"rouge_threshold": 0}, "rouge_threshold must be in (0, 1] (got 0)"),
    ({"rouge_threshold": 1.5}, "rouge_threshold must be in (0, 1]"),
    ({"minhash_threshold": 0.0}, "minhash_threshold must be in (0, 1]"),
    ({"filters": "lenient"}, "filters must be alpaca or strict"),
    ({"rouge_tokenizer": "words"}, "rouge_tokenizer must be rouge or unicode"),
])
def test_one_validation_for_the_stage_and_for_a_generation_config(fields, words):
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        SieveOptions(**fields)
    with pytest.raises(ValueError, match=words.split(" must")[0]):
        GenerateConfig(**fields)


def test_one_seed_reader_for_generation_and_dedup(tmp_path, test_data):
    tiny = test_data / "seeds_tiny.jsonl"
    assert read_seed_instructions(tiny) == [t.instruction for t in load_seeds(tiny).tasks]
    bare = tmp_path / "bare.jsonl"  # instructions alone: enough to deduplicate against, not to prompt with
    bare.write_text("\n".join(json.dumps({"instruction": t}) for t in SEEDS + ["Name a river."]))
    assert read_seed_instructions(bare) == SEEDS + ["Name a river."]
    with pytest.raises(InputError, match="field 'output' is missing"):
        load_seeds(bare)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"instruction": "Name a river."}) + "\n" + json.dumps({"prompt": "x"}) + "\n")
    with pytest.raises(InputError) as info:
        read_seed_instructions(bad)
    assert f"{bad}:2: field 'instruction' is missing" in str(info.value)
