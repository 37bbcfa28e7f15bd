"""ROUGE-L on token lists: tokenizers, the LCS, and the F-measure rouge-score reports.

`rouge_l` returns the very float that rouge-score's `RougeScorer(["rougeL"]).score(...)`
reports as `fmeasure` (same arithmetic, same order of operations), so threshold decisions
taken on it match rouge-score bit for bit. Only the LCS is computed differently: rapidfuzz's
`LCSseq` (bit-parallel, in C++) on the token lists written as integer ids, instead of the
O(|a|*|b|) table rouge-score fills in pure Python.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import numpy as np
import regex
from rapidfuzz.distance import LCSseq

TOKENIZERS = ("rouge", "unicode")

# rouge-score's default tokenizer (rouge_score/tokenize.py, no stemmer) lowercases, replaces
# every run of characters outside [a-z0-9] with a space, splits and drops empty tokens.
# Finding the [a-z0-9] runs of the lowercased text gives the same tokens in one step.
_ROUGE_TOKEN_RE = re.compile(r"[a-z0-9]+")

# Scripts written without spaces between words: each character (with any combining marks)
# is one token, so two identical Chinese or Thai instructions score 1.0 instead of the 0.0
# the ASCII-only rouge tokenizer gives them (it keeps no token at all).
_NO_SPACE = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}\p{Tibetan}"
_WORD_CHAR = rf"[[\p{{L}}\p{{N}}]--[{_NO_SPACE}]]"  # a letter or digit of a spaced script
_UNICODE_TOKEN_RE = regex.compile(
    rf"[{_NO_SPACE}]\p{{M}}*"  # one no-space-script character with its combining marks
    rf"|{_WORD_CHAR}[\p{{M}}{_WORD_CHAR}]*",  # a word: starts with a letter/digit, may carry marks
    regex.VERSION1,
)


def tokenize(text: str, tokenizer: str = "rouge") -> list[str]:
    """Split `text` into ROUGE tokens with the named tokenizer ("rouge" or "unicode").

    "rouge" gives exactly rouge-score's default tokens (use_stemmer=False): ASCII letters
    and digits only, so text in other scripts yields few or no tokens. "unicode" NFKC-
    normalises and casefolds, keeps words of every script (letters, digits and their
    combining marks) and splits Han, kana, Thai, Lao, Khmer, Myanmar and Tibetan text into
    single characters.
    """
    if tokenizer == "rouge":
        return _ROUGE_TOKEN_RE.findall(text.lower())
    if tokenizer == "unicode":
        if text.isascii():  # NFKC and casefold reduce to lower(), and words to [a-z0-9] runs
            return _ROUGE_TOKEN_RE.findall(text.lower())
        return _UNICODE_TOKEN_RE.findall(unicodedata.normalize("NFKC", text).casefold())
    raise ValueError(f"unknown tokenizer {tokenizer!r}; expected one of {TOKENIZERS}")


def token_codes(ids: Sequence[int]) -> str | tuple[int, ...]:
    """Integer token ids as one string of code points (ids below 0x110000), else as a tuple.

    rapidfuzz compares string characters by code point and integers by value, so either form
    gives the exact LCS of the id sequences, and the two forms compare with each other alike.
    """
    if not ids or max(ids) < 0x110000:
        return "".join(map(chr, ids))
    return tuple(ids)


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence of two token sequences.

    Tokens become small integers (equal tokens, equal integers), and rapidfuzz's bit-parallel
    `LCSseq` counts the LCS of the two id sequences exactly.
    """
    ids: dict[str, int] = {}
    a_ids = [ids.setdefault(t, len(ids)) for t in a]
    b_ids = [ids.setdefault(t, len(ids)) for t in b]
    return LCSseq.similarity(token_codes(a_ids), token_codes(b_ids))


def fmeasure_from_lcs(lcs: int, target_len: int, prediction_len: int) -> float:
    """ROUGE-L F-measure from an LCS length, with rouge-score's arithmetic.

    rouge-score computes precision = lcs/|prediction|, recall = lcs/|target| and
    F = 2*p*r/(p+r) (0.0 when p+r == 0, and 0 when either side has no tokens). Floating-
    point products and sums commute exactly, so the result is symmetric in the two sides.
    Mathematically it equals 2*lcs/(|target|+|prediction|); in floats it can differ from
    that by a few ulps, which is why callers that compare with a threshold must use this.
    """
    if not target_len or not prediction_len:
        return 0.0
    precision = lcs / prediction_len
    recall = lcs / target_len
    if precision + recall > 0:
        return 2 * precision * recall / (precision + recall)
    return 0.0


def rouge_l(a_tokens: Sequence[str], b_tokens: Sequence[str]) -> float:
    """ROUGE-L F-measure of two token lists, equal to rouge-score's `fmeasure`."""
    return fmeasure_from_lcs(lcs_length(a_tokens, b_tokens), len(a_tokens), len(b_tokens))


def fmeasures_from_lcs(lcs: np.ndarray, target_lens: np.ndarray, prediction_lens: np.ndarray) -> np.ndarray:
    """`fmeasure_from_lcs` over arrays (all lengths >= 1): the same float64 operations in the same
    order, each correctly rounded by IEEE 754 as in Python, so every value is equal bit for bit."""
    precision = lcs / prediction_lens
    recall = lcs / target_lens
    total = precision + recall
    with np.errstate(invalid="ignore"):
        return np.where(total > 0, 2 * precision * recall / total, 0.0)
