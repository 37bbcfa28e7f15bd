"""ROUGE-L pieces against rouge-score itself: tokenizer, LCS length and F-measure."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rouge_score import rouge_scorer, tokenizers

from records.rouge import _UNICODE_TOKEN_RE, lcs_length, rouge_l, tokenize

SCORER = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
ROUGE_TOKENIZER = tokenizers.DefaultTokenizer(use_stemmer=False)


class _Split(tokenizers.Tokenizer):
    """Tokens are the space-separated items: rouge-score then scores our token lists as they are."""

    def tokenize(self, text):
        return text.split()


TOKEN_SCORER = rouge_scorer.RougeScorer(["rougeL"], tokenizer=_Split())


def reference_score(a: list[str], b: list[str]):
    """rouge-score's ROUGE-L of two token lists through its public API (a is the target)."""
    return TOKEN_SCORER.score(" ".join(a), " ".join(b))["rougeL"]


def reference_lcs(a: list[str], b: list[str]) -> int:
    # recall = LCS / len(a): exact to recover, since both are small integers.
    return round(reference_score(a, b).recall * len(a)) if a and b else 0


def random_tokens(rng: random.Random, alphabet: str, max_len: int) -> list[str]:
    return [rng.choice(alphabet) for _ in range(rng.randint(0, max_len))]


@pytest.mark.parametrize(
    ("alphabet", "max_len", "pairs"),
    [("ab", 12, 1500), ("abcdef", 30, 1500), ("abcdefghijklmnopqrstuvwxyz", 90, 300)],
)
def test_lcs_and_rouge_l_equal_rouge_score_on_random_pairs(alphabet, max_len, pairs):
    rng = random.Random(f"{alphabet}{max_len}")
    for _ in range(pairs):
        a = random_tokens(rng, alphabet, max_len)
        b = random_tokens(rng, alphabet, max_len) if rng.random() < 0.8 else a[:]
        assert lcs_length(a, b) == reference_lcs(a, b)
        assert lcs_length(b, a) == reference_lcs(a, b)
        # Equal floats, not merely close: threshold decisions depend on the last bit.
        assert rouge_l(a, b) == reference_score(a, b).fmeasure
        assert rouge_l(b, a) == reference_score(a, b).fmeasure


def test_lcs_crosses_machine_word_boundaries():
    # Lengths around 63/64/65 exercise carries out of the top bit of the bit vector.
    rng = random.Random(7)
    for m in (62, 63, 64, 65, 66, 130):
        for _ in range(20):
            a = [rng.choice("abc") for _ in range(m)]
            b = [rng.choice("abc") for _ in range(rng.randint(1, 140))]
            assert lcs_length(a, b) == reference_lcs(a, b)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from("xyzw"), max_size=25), st.lists(st.sampled_from("xyzw"), max_size=25))
def test_rouge_l_matches_rouge_score_property(a, b):
    assert rouge_l(a, b) == reference_score(a, b).fmeasure


def test_empty_sides_score_zero_like_rouge_score():
    assert rouge_l([], []) == 0.0 == SCORER.score("", "")["rougeL"].fmeasure
    assert rouge_l(["a"], []) == 0.0 == SCORER.score("a", "")["rougeL"].fmeasure
    assert rouge_l([], ["a"]) == 0.0
    assert lcs_length([], ["a"]) == 0


def test_identical_texts_score_one():
    tokens = tokenize("Write a poem about the sea and the sea again.")
    assert rouge_l(tokens, tokens) == 1.0


TRICKY = [
    "",
    "   ",
    "Hello, World!",
    "don't stop-believing; e-mail me @ 10:30am",
    "İstanbul and the KELVIN sign \u212a",  # lower() changes length / maps to ASCII
    "café naïve résumé Straße",
    "tabs\tand\nnewlines\r\nand\u00a0nbsp\u2003em-space",
    "x_y snake_case CamelCase 3.14 1,000,000",
    "中文指令 mixed with English 和数字123",
    "emoji 😀 test ＦＵＬＬＷＩＤＴＨ ａｂｃ",
    "ǅemal ﬁle ﬂow",  # titlecase digraph and ligatures
]


@pytest.mark.parametrize("text", TRICKY)
def test_rouge_tokenizer_equals_rouge_score(text):
    assert tokenize(text, "rouge") == ROUGE_TOKENIZER.tokenize(text)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_rouge_tokenizer_equals_rouge_score_on_any_text(text):
    assert tokenize(text, "rouge") == ROUGE_TOKENIZER.tokenize(text)


def test_unicode_tokenizer_splits_cjk_and_keeps_other_scripts():
    text = "请写一首诗 about the Sea, ÉTÉ und Straße; हिन्दी भाषा"
    tokens = tokenize(text, "unicode")
    assert tokens[:5] == ["请", "写", "一", "首", "诗"]
    assert "sea" in tokens and "été" in tokens and "strasse" in tokens
    assert "हिन्दी" in tokens  # combining vowel signs stay inside the word
    assert tokenize("中文abc", "unicode") == ["中", "文", "abc"]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_unicode_tokenizer_ascii_shortcut_equals_the_general_pattern(text):
    assert tokenize(text, "unicode") == _UNICODE_TOKEN_RE.findall(text.casefold())


def test_unicode_tokenizer_lets_identical_chinese_instructions_match():
    text = "请写一首关于秋天的诗。"
    assert tokenize(text, "rouge") == []  # the ASCII tokenizer sees nothing to compare
    tokens = tokenize(text, "unicode")
    assert rouge_l(tokens, tokens) == 1.0
    other = tokenize("请写一首关于春天的诗。", "unicode")
    assert 0.8 < rouge_l(tokens, other) < 1.0


def test_unknown_tokenizer_is_rejected():
    with pytest.raises(ValueError, match="unknown tokenizer"):
        tokenize("text", "whitespace")


def test_token_codes_beyond_unicode_compare_like_code_points():
    from rapidfuzz.distance import LCSseq

    from records.rouge import token_codes
    assert token_codes([97, 98]) == "ab"
    big = token_codes([97, 0x110000, 98])
    assert big == (97, 0x110000, 98)
    assert LCSseq.similarity(big, token_codes([0x110000, 98])) == 2
    assert LCSseq.similarity(big, "ab") == 2  # the two forms of the same ids agree


def test_vectorised_fmeasure_equals_rouge_score_bit_for_bit():
    import numpy as np

    from records.rouge import fmeasures_from_lcs
    rng = random.Random(11)
    pairs = [(random_tokens(rng, "abcde", 40), random_tokens(rng, "abcde", 40)) for _ in range(2000)]
    pairs = [(a, b) for a, b in pairs if a and b]
    lcs = np.array([reference_lcs(a, b) for a, b in pairs])
    got = fmeasures_from_lcs(lcs, np.array([len(a) for a, _ in pairs]), np.array([len(b) for _, b in pairs]))
    assert got.tolist() == [reference_score(a, b).fmeasure for a, b in pairs]
