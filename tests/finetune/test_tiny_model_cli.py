"""`finetune tiny-model` builds a loadable random model whose tokenizer learned the dataset's text."""

import json

from click.testing import CliRunner

from commands.main import cli


def test_tiny_model_command_builds_a_loadable_model(tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    data = tmp_path / "d.jsonl"
    words = "river mountain budget recipe contract planet poem ladder engine garden novel harbor".split()
    data.write_text("\n".join(json.dumps({"instruction": f"Describe the {a} and the {b}.", "input": "",
                                          "output": f"The {a} is near the {b}."}) for a in words for b in words))
    out = tmp_path / "tiny"
    r = CliRunner().invoke(cli, ["finetune", "tiny-model", str(out), "--dataset", str(data), "--vocab-size", "300",
                                 "--hidden", "32", "--layers", "1"])
    assert r.exit_code == 0, r.output
    model = AutoModelForCausalLM.from_pretrained(out)
    tok = AutoTokenizer.from_pretrained(out)
    assert model.config.hidden_size == 32 and model.config.num_hidden_layers == 1
    assert model.config.vocab_size == len(tok) <= 300
    learned, unseen = tok("The river is near the garden.")["input_ids"], tok("Qzx vbwk plm rtyf hjdq gwpz.")["input_ids"]
    assert len(learned) < len(unseen)  # merges came from the dataset's words


def test_tiny_model_chat_has_a_chat_template_ending_turns_with_eos(tmp_path):
    from transformers import AutoTokenizer

    data = tmp_path / "d.jsonl"
    data.write_text("\n".join(json.dumps({"instruction": f"Say {w}.", "input": "", "output": w})
                              for w in "river mountain budget recipe contract planet".split()))
    out = tmp_path / "tiny-chat"
    r = CliRunner().invoke(cli, ["finetune", "tiny-model", str(out), "--dataset", str(data), "--vocab-size", "300",
                                 "--hidden", "32", "--layers", "1", "--chat"])
    assert r.exit_code == 0, r.output
    tok = AutoTokenizer.from_pretrained(out)
    text = tok.apply_chat_template([{"role": "user", "content": "Say river."}, {"role": "assistant", "content": "river"}],
                                   tokenize=False)
    assert text == "<|im_start|>user\nSay river.<|im_end|>\n<|im_start|>assistant\nriver<|im_end|>\n"
    assert tok.eos_token == "<|im_end|>"
