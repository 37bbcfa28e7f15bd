"""The in-process transformers backend on a tiny random Llama and a locally trained tokenizer."""

import asyncio

import pytest

from selfinstruct.backends.base import Decoding
from selfinstruct.errors import BackendError

CORPUS = ["Name a river in Africa.", "Add the two numbers.", "Instruction: Input: Output: ###",
          "Explain how long to boil an egg.", "Translate the sentence into French."] * 20


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    torch = pytest.importorskip("torch")
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    path = tmp_path_factory.mktemp("tiny-llama")
    raw = Tokenizer(models.BPE(unk_token="<unk>"))
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.train_from_iterator(CORPUS, trainers.BpeTrainer(vocab_size=300, special_tokens=["<unk>", "<s>", "</s>"]))
    tok = PreTrainedTokenizerFast(tokenizer_object=raw, unk_token="<unk>", bos_token="<s>", eos_token="</s>")
    tok.save_pretrained(path)
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=256,
                      bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id)
    LlamaForCausalLM(cfg).save_pretrained(path)
    return path


def test_generates_one_completion_per_prompt(tiny_checkpoint):
    from selfinstruct.backends.transformers_backend import TransformersBackend

    backend = TransformersBackend(str(tiny_checkpoint), prompts_per_request=2)
    response = asyncio.run(backend.complete(["Name a river.", "Add the two numbers please."],
                                            Decoding(temperature=0.0, max_tokens=8, seed=1)))
    assert len(response.completions) == 2
    assert all(c.finish_reason in ("stop", "length") for c in response.completions)
    assert 0 < response.usage["completion_tokens"] <= 16 and response.usage["prompt_tokens"] > 0
    assert backend.endpoint_host == "local" and backend.provider == "transformers"


def test_refuses_anything_but_a_local_checkpoint(tmp_path):
    from selfinstruct.backends.transformers_backend import TransformersBackend

    with pytest.raises(BackendError, match="never downloads"):
        TransformersBackend("meta-llama/Llama-3.2-1B")
