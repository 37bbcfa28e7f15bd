"""Reading many texts at once for `RougeIndex.check_and_add_many`: tokens, element ids, signatures.

One text at a time, `RougeIndex` tokenizes with `records.rouge.tokenize` and numbers tokens and
elements in Python dictionaries. For a batch the same values come from whole-column work: polars
finds the tokens of every ASCII text (the non-ASCII ones go through `tokenize`, whose lowercasing
and Unicode rules are Python's), and numpy numbers the repeats of a token inside a text. The ids
only have to be consistent (equal tokens, equal ids), so both paths share the index's dictionaries
and any text can be decided by either.

Texts are held as flat arrays: `flat[starts[i]:starts[i + 1]]` are the ids of text i.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from records.rouge import tokenize

SIG_WORDS = 4  # 4 x 64 = 256-bit element signatures


@dataclass
class Batch:
    """Token ids, element ids and signatures of a list of texts, as flat arrays."""

    starts: np.ndarray  # int64, len(texts) + 1 offsets into the flat arrays
    tokens: np.ndarray  # int64 token ids (vocabulary of the index)
    elements: np.ndarray  # int32 element ids (the k-th repeat of a token is its own element)
    sigs: np.ndarray  # uint64 (len(texts), SIG_WORDS): bit (element id mod 256) per element

    def lengths(self) -> np.ndarray:
        return np.diff(self.starts)


def read_batch(texts: list[str], tokenizer: str, vocab: dict[str, int], elements) -> Batch:
    """Read `texts` into a Batch; `elements` is the index's CandidateFilter (its element numbering)."""
    starts, tokens = token_ids(texts, tokenizer, vocab)
    ids = element_ids(tokens, repeat_numbers(starts, tokens), elements.element_id)
    return Batch(starts, tokens, ids, signatures(starts, ids))


def token_ids(texts: list[str], tokenizer: str, vocab: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """(starts, flat token ids) of `texts`, numbering new tokens in `vocab`."""
    ascii_at = [i for i, text in enumerate(texts) if text.isascii()]
    other_at = [i for i, text in enumerate(texts) if not text.isascii()]
    lens = np.zeros(len(texts), dtype=np.int64)
    parts: list[tuple[np.ndarray, np.ndarray]] = []  # (text positions, flat ids in text order)
    if ascii_at:
        # On ASCII text both tokenizers are lowercase-then-[a-z0-9]+ (see records.rouge.tokenize).
        found = pl.Series([texts[i] for i in ascii_at], dtype=pl.String).str.to_lowercase().str.extract_all(
            r"[a-z0-9]+")
        counts = found.list.len().to_numpy().astype(np.int64)
        flat = found.explode().drop_nulls()
        distinct = flat.unique()
        numbers = [vocab.setdefault(t, len(vocab)) for t in distinct.to_list()]
        ids = flat.replace_strict(distinct, pl.Series(numbers, dtype=pl.Int64), return_dtype=pl.Int64).to_numpy()
        lens[ascii_at] = counts
        parts.append((np.array(ascii_at, dtype=np.int64), ids))
    if other_at:
        lists = [[vocab.setdefault(t, len(vocab)) for t in tokenize(texts[i], tokenizer)] for i in other_at]
        lens[other_at] = [len(ids) for ids in lists]
        parts.append((np.array(other_at, dtype=np.int64), np.array([i for ids in lists for i in ids], dtype=np.int64)))
    starts = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(lens, out=starts[1:])
    if len(parts) == 1:  # one group holds every text, in order
        return starts, parts[0][1]
    out = np.empty(starts[-1], dtype=np.int64)
    for where, ids in parts:  # scatter each group's tokens to their texts' places
        out[ragged_positions(starts[where], lens[where])] = ids
    return starts, out


def ragged_positions(begins: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenation of arange(b, b + c) for each (b, c)."""
    return np.repeat(begins, counts) + ragged_arange(counts)


def ragged_arange(counts: np.ndarray) -> np.ndarray:
    """Concatenation of arange(c) for each c."""
    return np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)


def repeat_numbers(starts: np.ndarray, tokens: np.ndarray) -> np.ndarray:
    """For each token, how many times the same token came earlier in its text (0 for most)."""
    lens = np.diff(starts)
    text = np.repeat(np.arange(len(lens), dtype=np.int64), lens)
    key = text * (int(tokens.max(initial=0)) + 1) + tokens
    k = np.zeros(len(key), dtype=np.int64)
    order = np.argsort(key)  # unstable and fast: only the few repeated keys need their text order back
    ordered = key[order]
    same = ordered[1:] == ordered[:-1]
    in_run = np.zeros(len(key), dtype=bool)
    in_run[1:] = same
    in_run[:-1] |= same
    at = np.sort(order[in_run])  # every copy of a repeated token, in text order
    order = np.argsort(key[at], kind="stable")
    ordered = key[at][order]
    step = np.arange(len(ordered))
    run_start = np.ones(len(ordered), dtype=bool)
    run_start[1:] = ordered[1:] != ordered[:-1]
    k[at[order]] = step - np.maximum.accumulate(np.where(run_start, step, 0))
    return k


def element_ids(tokens: np.ndarray, repeats: np.ndarray, element_id: Callable) -> np.ndarray:
    """Element ids for (token, repeat) pairs through the index's numbering `element_id(key)` (key: the
    token id for a first occurrence, (token id, k) for its k-th repeat)."""
    out = np.empty(len(tokens), dtype=np.int32)
    first = repeats == 0
    firsts = tokens[first]
    distinct = np.flatnonzero(np.bincount(firsts))  # token ids are dense: count rather than sort
    table = np.zeros(len(distinct) and int(distinct[-1]) + 1, dtype=np.int32)
    table[distinct] = [element_id(t) for t in distinct.tolist()]
    out[first] = table[firsts]
    again = np.flatnonzero(~first)
    out[again] = [element_id(key) for key in zip(tokens[again].tolist(), repeats[again].tolist())]
    return out


def signatures(starts: np.ndarray, elements: np.ndarray) -> np.ndarray:
    """Per text, SIG_WORDS words with bit (element id mod 256) set for each of its elements."""
    lens = np.diff(starts)
    bits = elements.astype(np.int64) % (64 * SIG_WORDS)
    cell = np.repeat(np.arange(len(lens), dtype=np.int64), lens) * SIG_WORDS + (bits >> 6)
    sigs = np.zeros(len(lens) * SIG_WORDS, dtype=np.uint64)
    np.bitwise_or.at(sigs, cell, np.left_shift(np.uint64(1), (bits & 63).astype(np.uint64)))
    return sigs.reshape(len(lens), SIG_WORDS)


def signature_words(elements) -> list[int]:
    """One text's signature as SIG_WORDS integers (the same bits as `signatures`)."""
    sig = 0
    for e in elements:
        sig |= 1 << (e % (64 * SIG_WORDS))
    return [(sig >> (64 * k)) & 0xFFFFFFFFFFFFFFFF for k in range(SIG_WORDS)]


def codes_of(tokens: np.ndarray, starts: np.ndarray, lo: int, hi: int) -> list:
    """Texts lo..hi-1 as strings of code points (one per token id), the form rapidfuzz compares."""
    part = tokens[starts[lo]:starts[hi]]
    if len(part) and part.max() >= 0x110000:  # not representable as characters: tuples of ints
        values = part.tolist()
        return [tuple(values[starts[i] - starts[lo]:starts[i + 1] - starts[lo]]) for i in range(lo, hi)]
    joined = part.astype("<u4").tobytes().decode("utf-32-le", "surrogatepass")
    base = starts[lo]
    bounds = (starts[lo:hi + 1] - base).tolist()
    return [joined[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
