"""Speed work keeps training what it was: the same losses and weights, step for step, as the loop
before logits were computed only where a target is (figures recorded from that loop), and a
profile of the run's phases at the end of metrics.jsonl."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from finetune.config import load_config
from finetune.train import train

# Recorded with the loop as it was before (full logits over every position), on the session's
# tiny model and 300 records: alpaca-7b, max_steps=3, fp32, global batch 16, lr 1e-3, 10% held out.
BEFORE = {
    "grouped": {"losses": [5.976809042008196, 6.0092114434726, 5.858648943754793],
                "eval_loss": 5.805263361855158,
                "weights": {"lm_head.weight": -4.925560190233227,
                            "model.layers.0.self_attn.q_proj.weight": -2.6277445143241493}},
    "random": {"losses": [5.997383117675781, 5.978392124176025, 5.8210859298706055],
               "eval_loss": 5.82823234437004,
               "weights": {"lm_head.weight": -4.818649210752483,
                           "model.layers.0.self_attn.q_proj.weight": -2.5943247550276283}},
    "packed": {"losses": [5.99401750235722, 5.9801758796938005, 5.819055351421987],
               "eval_loss": 5.827369714161707,
               "weights": {"lm_head.weight": -4.882987229786522,
                           "model.layers.0.self_attn.q_proj.weight": -2.6004921850326355}},
}
BATCHING = {"grouped": ["batching=grouped", "loss_averaging=token"],
            "random": ["loss_averaging=micro_batch"],
            "packed": ["packing=true", "loss_averaging=token"]}
PHASES = {"imports", "data", "model", "collate", "forward_backward", "optimizer", "logging", "evaluation",
          "export", "model_card"}


@pytest.mark.parametrize("batching", sorted(BATCHING))
def test_losses_and_weights_are_those_of_the_loop_before(tmp_path, records_file, tiny_model, batching):
    cfg = load_config("alpaca-7b", ["max_steps=3", "precision=fp32", "progress_bar=false", "fsdp={}",
                                    "global_batch_size=16", "learning_rate=1e-3", "eval_fraction=0.1",
                                    *BATCHING[batching]],
                      dataset=str(records_file), model=str(tiny_model), output=str(tmp_path / batching))
    out = train(cfg)
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    before = BEFORE[batching]
    assert [r["loss"] for r in rows if "loss" in r] == pytest.approx(before["losses"], rel=1e-5)
    assert [r["eval_loss"] for r in rows if "eval_loss" in r] == pytest.approx([before["eval_loss"]], rel=1e-5)
    weights = load_file(str(out / "model.safetensors"))
    for name, total in before["weights"].items():
        assert float(weights[name].double().sum()) == pytest.approx(total, rel=1e-5)
    assert set(rows[-1]["phase_seconds"]) == PHASES
    assert all(s >= 0 for s in rows[-1]["phase_seconds"].values())


def test_logits_only_where_a_target_is_give_the_same_loss_and_gradients(tiny_model, records):
    from transformers import AutoTokenizer, AutoModelForCausalLM

    from finetune.batching import MicroBatch
    from finetune.collate import collate
    from finetune.encode import encode_records
    from finetune.model import selects_logits
    from finetune.step import forward_loss_sum
    from finetune.templates import load_template

    tok = AutoTokenizer.from_pretrained(tiny_model)
    examples = encode_records(records[:6], tok, load_template("alpaca"), 128).examples
    model = AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float32)
    assert selects_logits(model)
    for packed, rows in ((False, [[0], [1], [2], [3]]), (True, [[0, 1, 2], [3, 4, 5]])):
        batch = collate(MicroBatch(rows), examples, tok.pad_token_id, packed)
        sums, grads = [], []
        for select in (False, True):
            model.zero_grad()
            s = forward_loss_sum(model, batch, select)
            s.backward()
            sums.append(s.item())
            grads.append(torch.cat([p.grad.flatten() for p in model.parameters()]))
        assert sums[1] == pytest.approx(sums[0], rel=1e-6)
        torch.testing.assert_close(grads[1], grads[0], rtol=1e-4, atol=1e-6)


def test_a_model_whose_forward_cannot_select_logits_gets_them_all():
    from finetune.model import selects_logits

    class Plain(torch.nn.Module):
        def forward(self, input_ids, logits_to_keep=0):
            return input_ids

    assert not selects_logits(Plain())  # its module does not slice with transformers' helper
