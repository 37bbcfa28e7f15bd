"""Rolling batches: a decode loop over a KV cache whose rows come and go.

`model.generate` on a batch decodes until its longest row is done; rows that stopped at EOS early
only pad, and on a 2-core CPU a step costs nearly as much with one live row as with sixteen. Here
a row leaves the batch the step it finishes (EOS, a stop string, the max-tokens cap), and a
waiting prompt takes its place: it is prefilled on its own and joins the running batch, left-padded
to the cache's width. Every row keeps its own attention mask and positions (the count of its real
tokens before each one), as `generate` gives a left-padded row, so a row's greedy output does not
depend on the rows beside it.

Each step picks the next token as `generate` does for the same settings: greedy is the argmax of
the last position's logits; sampling applies transformers' temperature and top-p warpers, then
draws from the softmax. Only the last position's logits are computed (`logits_to_keep=1`).

    decode(model, feed, decoding, slots=16, eos_ids=[2], tokenizer=tok, pad_id=2)  # rows go to feed.put

`feed` hands out prompts (token ids) as slots free up and takes each finished row back:

    feed.take(n) -> list[list[int]]   up to n more prompts ([] when none is waiting)
    feed.put(k, ids)                  the k-th prompt taken is done: its generated ids
    feed.closed() -> bool             stop now (the callers are gone)
"""

from __future__ import annotations

from typing import Protocol

from modelcalls.backends.base import Decoding


class Feed(Protocol):
    def take(self, n: int) -> list[list[int]]: ...

    def put(self, k: int, ids: list[int]) -> None: ...

    def closed(self) -> bool: ...


class RollingBatch:
    """The running rows: a DynamicCache, the 2-D attention mask, each row's next position and key."""

    def __init__(self, model, pad_id: int):
        self.model, self.pad_id = model, pad_id
        self.cache = None
        self.mask = None  # (rows, width) long: 1 where the cache holds a real token of the row
        self.lengths = None  # (rows,) long: real tokens per row, the position of its next token
        self.keys: list[int] = []  # which prompt each row is (the order it was taken in)

    def __len__(self) -> int:
        return len(self.keys)

    def admit(self, prompts: list[list[int]], keys: list[int]):
        """Prefill `prompts` together (left-padded) and append them as rows: their last logits."""
        import torch
        from transformers import DynamicCache

        width = max(len(p) for p in prompts)
        ids = torch.full((len(prompts), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(prompts), width), dtype=torch.long)
        for row, p in enumerate(prompts):
            ids[row, width - len(p):] = torch.tensor(p, dtype=torch.long)
            mask[row, width - len(p):] = 1
        positions = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 0)  # as generate numbers a left-padded row
        cache = DynamicCache(config=self.model.config)
        logits = self.model(input_ids=ids, attention_mask=mask, position_ids=positions, cache=cache,
                            logits_to_keep=1).logits[:, -1]
        self._join(cache, mask, keys)
        return logits

    def _join(self, cache, mask, keys: list[int]) -> None:
        import torch

        lengths = mask.sum(-1)
        if self.cache is None:
            self.cache, self.mask, self.lengths, self.keys = cache, mask, lengths, list(keys)
            return
        width = max(self.mask.shape[1], mask.shape[1])
        for old, new in zip(self.cache.layers, cache.layers):
            old.keys = torch.cat([_left_pad(old.keys, width, 2), _left_pad(new.keys, width, 2)])
            old.values = torch.cat([_left_pad(old.values, width, 2), _left_pad(new.values, width, 2)])
        self.mask = torch.cat([_left_pad(self.mask, width, 1), _left_pad(mask, width, 1)])
        self.lengths = torch.cat([self.lengths, lengths])
        self.keys += keys

    def step(self, tokens):
        """Feed each row its next token: the logits that follow it, one row each."""
        import torch

        self.mask = torch.cat([self.mask, self.mask.new_ones((len(self), 1))], dim=1)
        out = self.model(input_ids=tokens[:, None], attention_mask=self.mask, position_ids=self.lengths[:, None],
                         cache=self.cache, logits_to_keep=1)
        self.lengths = self.lengths + 1
        return out.logits[:, -1]

    def keep(self, rows: list[int]) -> None:
        """Keep only `rows` (indices, in order), then drop cache columns that no kept row uses."""
        import torch

        if len(rows) == len(self):
            return
        if not rows:
            self.cache = self.mask = self.lengths = None
            self.keys = []
            return
        index = torch.tensor(rows, dtype=torch.long)
        self.mask, self.lengths = self.mask[index], self.lengths[index]
        self.keys = [self.keys[r] for r in rows]
        first = int((self.mask.sum(0) > 0).nonzero()[0])  # leading columns padded in every kept row
        self.mask = self.mask[:, first:]
        for layer in self.cache.layers:
            layer.keys = layer.keys[index, :, first:]
            layer.values = layer.values[index, :, first:]


def _left_pad(tensor, width: int, dim: int):
    """`tensor` with zeros prepended along `dim` up to `width`."""
    import torch

    missing = width - tensor.shape[dim]
    if missing == 0:
        return tensor
    shape = list(tensor.shape)
    shape[dim] = missing
    return torch.cat([tensor.new_zeros(shape), tensor], dim=dim)


def next_tokens(logits, decoding: Decoding):
    """One token per row: the argmax (temperature 0), else a draw after temperature and top-p, with
    transformers' own warpers, as `generate(do_sample=True, top_k=0)` applies them."""
    import torch

    if decoding.temperature == 0:
        return logits.argmax(-1)
    from transformers import TemperatureLogitsWarper, TopPLogitsWarper

    scores = logits.float()
    if decoding.temperature != 1.0:
        scores = TemperatureLogitsWarper(decoding.temperature)(None, scores)
    if decoding.top_p < 1.0:
        scores = TopPLogitsWarper(decoding.top_p)(None, scores)
    return torch.multinomial(torch.softmax(scores, dim=-1), num_samples=1).squeeze(1)


def decode(model, feed: Feed, decoding: Decoding, *, slots: int, eos_ids: list[int], tokenizer,
           pad_id: int) -> None:
    """Generate for every prompt `feed` hands out, at most `slots` at a time, until it has no more.

    Call under torch.inference_mode(). A row ends at an EOS id (kept as its last id), when the
    decoded text of its newest tokens holds a stop string, or at `decoding.max_tokens` ids."""
    batch, logits, taken = RollingBatch(model, pad_id), None, 0
    generated: dict[int, list[int]] = {}
    stopped = _stop_check(decoding.stop, tokenizer)
    eos = set(eos_ids)
    while not feed.closed():
        fresh = feed.take(slots - len(batch)) if len(batch) < slots else []
        if fresh:
            keys = list(range(taken, taken + len(fresh)))
            taken += len(fresh)
            generated.update((k, []) for k in keys)
            admitted = batch.admit(fresh, keys)
            logits = admitted if logits is None else _cat(logits, admitted)
        if not len(batch):
            return
        tokens = next_tokens(logits, decoding)
        live = []
        for row, (key, token) in enumerate(zip(batch.keys, tokens.tolist())):
            ids = generated[key]
            ids.append(token)
            if token in eos or len(ids) >= decoding.max_tokens or stopped(ids):
                feed.put(key, generated.pop(key))
            else:
                live.append(row)
        batch.keep(live)
        logits = batch.step(tokens[live]) if live else None


def _cat(a, b):
    import torch

    return torch.cat([a, b])


def _stop_check(stops: tuple[str, ...], tokenizer):
    """Whether a row's ids end with a stop string just completed: only the tail is decoded, as a stop
    string completed by the newest token lies within its last 4 bytes per character (every token
    holds at least one byte)."""
    if not stops:
        return lambda ids: False
    window = 4 * max(len(s) for s in stops) + 4

    def stopped(ids: list[int]) -> bool:
        text = tokenizer.decode(ids[-window:], skip_special_tokens=True)
        return any(s in text for s in stops)

    return stopped
