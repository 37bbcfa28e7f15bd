"""The in-process transformers backend on a tiny random Llama and a locally trained tokenizer."""

import asyncio
import json

import pytest

from modelcalls.backends.base import Decoding
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
    from modelcalls.backends.transformers_backend import TransformersBackend

    backend = TransformersBackend(str(tiny_checkpoint), prompts_per_request=2)
    response = asyncio.run(backend.complete(["Name a river.", "Add the two numbers please."],
                                            Decoding(temperature=0.0, max_tokens=8, seed=1)))
    assert len(response.completions) == 2
    assert all(c.finish_reason in ("stop", "length") for c in response.completions)
    assert 0 < response.usage["completion_tokens"] <= 16 and response.usage["prompt_tokens"] > 0
    assert backend.endpoint_host == "local" and backend.provider == "transformers"


def test_refuses_anything_but_a_local_checkpoint(tmp_path):
    from modelcalls.backends.transformers_backend import TransformersBackend

    with pytest.raises(BackendError, match="never downloads"):
        TransformersBackend("meta-llama/Llama-3.2-1B")


PROMPTS = ["Name a river.", "Add the two numbers please, then explain how long to boil an egg.", "Explain",
           "Translate the sentence into French.", "Name a river in Africa and add the two numbers.", "Add"]


def test_concurrent_requests_share_batches_and_match_one_at_a_time(tiny_checkpoint):
    from modelcalls.backends.transformers_backend import TransformersBackend

    greedy = Decoding(temperature=0.0, max_tokens=12)
    batched = TransformersBackend(str(tiny_checkpoint), batch_size=4)

    async def concurrently():
        responses = await asyncio.gather(*(batched.complete([p], greedy) for p in PROMPTS))
        sizes = list(batched._batcher.batch_sizes)
        await batched.aclose()
        return responses, sizes

    responses, sizes = asyncio.run(concurrently())
    assert sizes == [4, 2]  # six concurrent calls, gathered into batches of at most 4
    alone = [batched.generate_batch([p], greedy)[0] for p in PROMPTS]
    assert [r.completions[0].text for r in responses] == [row.text for row in alone]
    assert [r.usage["completion_tokens"] for r in responses] == [row.completion_tokens for row in alone]
    assert [r.usage["prompt_tokens"] for r in responses] == [row.prompt_tokens for row in alone]
    assert len({row.text for row in alone}) > 1  # the prompts really lead to different outputs


def test_rows_end_at_stop_strings_eos_and_the_cap(tiny_checkpoint, tmp_path):
    import shutil

    from modelcalls.backends.transformers_backend import TransformersBackend

    backend = TransformersBackend(str(tiny_checkpoint))
    free = backend.generate_batch(PROMPTS[:2], Decoding(temperature=0.0, max_tokens=10))
    assert [r.finish_reason for r in free] == ["length", "length"] and [r.completion_tokens for r in free] == [10, 10]
    stop = free[0].text[3:6]
    cut = backend.generate_batch(PROMPTS[:2], Decoding(temperature=0.0, max_tokens=10, stop=(stop,)))
    assert cut[0].text == free[0].text[: free[0].text.find(stop)] and cut[0].finish_reason == "stop"
    assert cut[0].completion_tokens < 10
    # a checkpoint whose EOS is the token this prompt's greedy reply reaches third
    ids = backend.tokenizer(free[0].text, add_special_tokens=False)["input_ids"]
    eos_dir = tmp_path / "eos"
    shutil.copytree(tiny_checkpoint, eos_dir)
    config = json.loads((eos_dir / "generation_config.json").read_text())
    (eos_dir / "generation_config.json").write_text(json.dumps({**config, "eos_token_id": ids[2]}))
    ended = TransformersBackend(str(eos_dir)).generate_batch(PROMPTS[:1], Decoding(temperature=0.0, max_tokens=10))[0]
    assert ended.finish_reason == "stop" and ended.completion_tokens <= 3
    assert free[0].text.startswith(ended.text) and len(ended.text) < len(free[0].text)


def test_greedy_rows_equal_model_generate_one_prompt_at_a_time(tiny_checkpoint):
    """The rolling batch's own decode loop against transformers' generate, the reference."""
    from modelcalls.backends.transformers_backend import TransformersBackend

    backend = TransformersBackend(str(tiny_checkpoint), batch_size=3)
    greedy = Decoding(temperature=0.0, max_tokens=12)
    ours = backend.generate_batch(PROMPTS, greedy)
    for prompt, row in zip(PROMPTS, ours):
        ids = _greedy_ids(backend, prompt, 12)
        assert row.text == backend.tokenizer.decode(ids, skip_special_tokens=True)
        assert row.completion_tokens == len(ids) == 12
        assert row.prompt_tokens == len(backend.tokenizer(prompt)["input_ids"])


def _greedy_ids(backend, prompt, max_new_tokens):
    """The ids transformers' own generate picks greedily for one prompt."""
    import torch

    batch = backend.tokenizer([prompt], return_tensors="pt")
    with torch.no_grad():
        out = backend._model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=False,
                                      pad_token_id=backend.tokenizer.pad_token_id)
    return out[0, batch["input_ids"].shape[1]:].tolist()


def _eos_checkpoint(tiny_checkpoint, tmp_path, eos_id):
    import shutil

    folder = tmp_path / f"eos-{eos_id}"
    shutil.copytree(tiny_checkpoint, folder)
    config = json.loads((folder / "generation_config.json").read_text())
    (folder / "generation_config.json").write_text(json.dumps({**config, "eos_token_id": eos_id}))
    return folder


def test_rows_stopping_at_eos_at_different_steps_match_one_at_a_time(tiny_checkpoint, tmp_path):
    """Rows leave the rolling batch as they end and waiting prompts take their slots: the answers,
    finish reasons and token counts are those of each prompt decoded alone."""
    from collections import Counter

    from modelcalls.backends.transformers_backend import TransformersBackend

    greedy = Decoding(temperature=0.0, max_tokens=14)
    ids = [_greedy_ids(TransformersBackend(str(tiny_checkpoint)), p, 14) for p in PROMPTS]
    # as EOS, the token that ends the most replies at different lengths
    first = {t: {row.index(t) for row in ids if t in row} for t in {t for row in ids for t in row}}
    eos_id = max(first, key=lambda t: (len(first[t]), Counter(t in row for row in ids)[True]))
    folder = _eos_checkpoint(tiny_checkpoint, tmp_path, eos_id)
    batched = TransformersBackend(str(folder), batch_size=2)

    async def concurrently():
        responses = await asyncio.gather(*(batched.complete([p], greedy) for p in PROMPTS))
        await batched.aclose()
        return responses

    responses = asyncio.run(concurrently())
    alone = [TransformersBackend(str(folder), batch_size=1).generate_batch([p], greedy)[0] for p in PROMPTS]
    assert [r.completions[0].text for r in responses] == [row.text for row in alone]
    assert [r.completions[0].finish_reason for r in responses] == [row.finish_reason for row in alone]
    assert [r.usage["completion_tokens"] for r in responses] == [row.completion_tokens for row in alone]
    assert len({row.completion_tokens for row in alone if row.finish_reason == "stop"}) >= 2
    assert batched.batch_sizes[0] == 2 and 1 in batched.batch_sizes  # a slot freed by an early stop refilled alone


def test_sampling_is_reproducible_with_a_seed(tiny_checkpoint):
    from modelcalls.backends.transformers_backend import TransformersBackend

    backend = TransformersBackend(str(tiny_checkpoint))
    sampled = Decoding(temperature=1.0, max_tokens=10, seed=3)
    assert backend.generate_batch(PROMPTS[:3], sampled) == backend.generate_batch(PROMPTS[:3], sampled)


def test_stream_yields_the_greedy_reply_piece_by_piece(tiny_checkpoint):
    from modelcalls.backends.transformers_backend import TransformersBackend, cut_at_stops

    backend = TransformersBackend(str(tiny_checkpoint), chat_template=False)
    greedy = Decoding(temperature=0.0, max_tokens=10)
    pieces = list(backend.stream(PROMPTS[1], greedy))
    assert "".join(pieces) == backend.generate_batch([PROMPTS[1]], greedy)[0].text
    assert list(cut_at_stops(["ab", "c#", "## d"], ("###",))) == ["ab", "c"]
    assert "".join(cut_at_stops(["ab#", "#x"], ("###",))) == "ab##x"


class _DecodeHook:
    """The backend's tokenizer, with `hook()` run in the generating thread after each decode; every
    decoded piece ends a line, so the streamer hands each token over at once."""

    def __init__(self, tokenizer, hook):
        self._tokenizer, self._hook = tokenizer, hook

    def __call__(self, *args, **kwargs):
        return self._tokenizer(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._tokenizer, name)

    def decode(self, *args, **kwargs):
        text = self._tokenizer.decode(*args, **kwargs) + "\n"
        self._hook()
        return text


def test_a_stream_closed_from_its_own_generating_thread_stops_without_error(tiny_checkpoint):
    """A web client that disconnects leaves its reply to the garbage collector, which may close it in
    the thread that generates it: that must end the generation, not raise 'cannot join current thread'."""
    import threading

    from modelcalls.backends.transformers_backend import TransformersBackend

    backend = TransformersBackend(str(tiny_checkpoint), chat_template=False)
    armed, done, outcome = threading.Event(), threading.Event(), []

    def close_from_within():  # at the second token (the streamer decodes twice per line), once the first piece was taken
        decoded.append(1)
        if len(decoded) < 3 or done.is_set():
            return
        armed.wait(60)
        try:
            stream.close()
            outcome.append(None)
        except BaseException as e:  # noqa: BLE001 - what closing raised is the test's subject
            outcome.append(e)
        done.set()

    decoded: list[int] = []
    backend.tokenizer = _DecodeHook(backend.tokenizer, close_from_within)
    stream = backend.stream(PROMPTS[1], Decoding(temperature=0.0, max_tokens=50))
    assert next(stream)  # the first piece, while the model goes on generating
    armed.set()
    assert done.wait(60)
    assert outcome == [None]
    assert list(stream) == []  # closed
    with backend._model_lock:  # the generation has ended and let go of the model
        pass
