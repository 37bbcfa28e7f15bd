"""Indexed ROUGE-L dedup gives the exhaustive rule's decisions; MinHash drops record copies."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from selfinstruct import rouge_candidates, rouge_index
from selfinstruct.decide import sieve_records
from selfinstruct.dedup import MinHashIndex, RougeIndex, exhaustive_rouge_decisions
from selfinstruct.sieve_options import SieveOptions
from records.rouge import lcs_length, rouge_l, tokenize

# A Zipf-ish vocabulary: a few very common words, as in real instructions.
COMMON = ["the", "a", "of", "write", "list", "and", "to", "give", "following", "describe"]
RARE = [f"w{i}" for i in range(60)]


def make_text(rng: random.Random) -> str:
    n = rng.choice([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 15, 20, 30, 70])
    return " ".join(rng.choice(COMMON) if rng.random() < 0.5 else rng.choice(RARE) for _ in range(n))


def perturb(rng: random.Random, text: str) -> str:
    words = text.split()
    op = rng.choice(["swap", "insert", "delete", "copy", "case"])
    if op == "swap" and words:
        words[rng.randrange(len(words))] = rng.choice(RARE)
    elif op == "insert":
        words.insert(rng.randint(0, len(words)), rng.choice(COMMON + RARE))
    elif op == "delete" and len(words) > 1:
        del words[rng.randrange(len(words))]
    elif op == "case":
        return text.upper() + "!"
    return " ".join(words)


def make_stream(seed: int, size: int, planted: float = 0.3) -> list[str]:
    rng = random.Random(seed)
    stream: list[str] = []
    while len(stream) < size:
        if stream and rng.random() < planted:
            stream.append(perturb(rng, rng.choice(stream)))
        else:
            stream.append(make_text(rng))
    return stream


def brute_force(pool: list[str], text: str) -> tuple[int | None, float]:
    """Highest-scoring pool entry (earliest on ties) and its score, by scoring every pair."""
    tokens = tokenize(text)
    best_id, best = None, 0.0
    for i, other in enumerate(pool):
        score = rouge_l(tokens, tokenize(other))
        if score > best:
            best_id, best = i, score
    return best_id, best


def run_index(index: RougeIndex, seeds: list[str], stream: list[str]):
    for seed in seeds:
        index.add(seed)
    return [index.check_and_add(text) for text in stream]


@pytest.mark.parametrize("threshold", [0.5, 0.7, 0.9])
def test_decisions_equal_exhaustive_rouge_score_rule(threshold):
    seeds = make_stream(1, 30, planted=0.0)
    stream = make_stream(2, 250)
    reference = exhaustive_rouge_decisions(stream, seeds, threshold)
    verdicts = run_index(RougeIndex(threshold, report_floor=min(0.5, threshold)), seeds, stream)
    assert [not v.duplicate for v in verdicts] == [kept for kept, _ in reference]
    assert sum(v.duplicate for v in verdicts) > 20  # the planted copies are found
    for verdict, (kept, best) in zip(verdicts, reference):
        if not kept or best >= min(0.5, threshold):
            assert verdict.score == best
        else:
            assert (verdict.nearest_id, verdict.score) == (None, 0.0)


@pytest.mark.parametrize(("threshold", "floor"), [(0.7, 0.5), (0.7, 0.7), (0.6, 0.2), (0.9, 0.9)])
def test_nearest_and_score_match_brute_force_across_rebuilds(monkeypatch, threshold, floor):
    monkeypatch.setattr(rouge_index, "_FIRST_REBUILD", 8)  # re-rank and re-index many times
    index = RougeIndex(threshold, report_floor=floor)
    pool: list[str] = []
    for text in make_stream(3, 500):
        expected_id, expected = brute_force(pool, text)
        verdict = index.check_and_add(text)
        assert verdict.duplicate == (expected > threshold)
        if expected >= floor and expected > 0:
            assert (verdict.nearest_id, verdict.score) == (expected_id, expected)
            assert verdict.nearest_text == pool[expected_id]
        else:
            assert (verdict.nearest_id, verdict.nearest_text, verdict.score) == (None, None, 0.0)
        if not verdict.duplicate:
            pool.append(text)
    assert len(index) == len(pool)


def test_pairs_exactly_at_the_threshold_follow_rouge_score():
    # Pairs whose exact F is 2L/(m+n) == threshold: the float rouge-score computes may land
    # an ulp either side, and the index must take the same side.
    words = [f"t{i}" for i in range(40)]
    cases = 0
    for m in range(1, 21):
        for n in range(1, 21):
            for lcs in range(1, min(m, n) + 1):
                a, b = words[:m], words[:lcs] + [f"u{i}" for i in range(n - lcs)]
                threshold = 2 * lcs / (m + n)
                if threshold > 1.0:
                    continue
                reference = exhaustive_rouge_decisions([" ".join(b)], [" ".join(a)], threshold)
                index = RougeIndex(threshold, report_floor=threshold)
                index.add(" ".join(a))
                verdict = index.check(" ".join(b))
                assert verdict.duplicate == (not reference[0][0])
                # The floor is inclusive on the same float: an ulp below it is not reported.
                expected = reference[0][1] if reference[0][1] >= threshold else 0.0
                assert verdict.score == expected
                cases += 1
    assert cases > 1000


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(st.sampled_from(["a", "b", "c", "d", "the"]), max_size=9), max_size=40),
    st.floats(0.05, 1.0),
    st.floats(0.0, 1.0),
)
def test_index_is_complete_on_arbitrary_streams(texts, threshold, floor_fraction):
    floor = threshold * floor_fraction
    stream = [" ".join(t) for t in texts]
    index = RougeIndex(threshold, report_floor=floor)
    pool: list[str] = []
    for text in stream:
        expected_id, expected = brute_force(pool, text)
        verdict = index.check_and_add(text)
        assert verdict.duplicate == (expected > threshold)
        if expected > 0 and expected >= floor:
            assert (verdict.nearest_id, verdict.score) == (expected_id, expected)
        if not verdict.duplicate:
            pool.append(text)


def test_add_check_and_check_and_add_semantics():
    index = RougeIndex(0.7)
    seed = index.add("Write a poem about the sea.")
    assert index.add("Write a poem about the sea.") == seed + 1  # add never refuses
    verdict = index.check("write a poem about the sea")
    assert verdict.duplicate and verdict.score == 1.0 and verdict.nearest_id == seed
    assert len(index) == 2  # check does not insert
    kept = index.check_and_add("List three famous painters of the Renaissance.")
    assert not kept.duplicate and len(index) == 3
    assert index.text(2) == "List three famous painters of the Renaissance."
    dropped = index.check_and_add("List three famous painters of the Renaissance period.")
    assert dropped.duplicate and dropped.nearest_id == 2 and len(index) == 3
    assert not index.check_and_add("").duplicate  # no tokens: scores 0 against all
    index.check("Name the planets of the solar system.")
    other = index.add("Translate this sentence into French.")  # not the text just checked
    assert index.check("translate this sentence into french").nearest_id == other
    assert not index.check("Name the planets of the solar system.").duplicate


def test_unicode_tokenizer_dedups_chinese_instructions():
    rouge = RougeIndex(0.7, tokenizer="rouge")
    unicode = RougeIndex(0.7, tokenizer="unicode")
    for index in (rouge, unicode):
        index.add("请写一首关于秋天的诗。")
    assert not rouge.check("请写一首关于秋天的诗。").duplicate
    assert unicode.check("请写一首关于秋天的诗。").duplicate


@pytest.mark.parametrize(("threshold", "floor"), [(1.5, 0.5), (0.7, 0.8), (0.7, -0.1)])
def test_invalid_thresholds_are_rejected(threshold, floor):
    with pytest.raises(ValueError):
        RougeIndex(threshold, report_floor=floor)


def test_default_floor_follows_a_lower_threshold():
    assert RougeIndex(0.3).report_floor == 0.3
    assert RougeIndex().report_floor == 0.5


RECORD = {
    "instruction": "Summarize the article.",
    "input": "The city council met on Tuesday to discuss the new budget for parks and libraries.",
    "output": "The council discussed next year's budget for parks and libraries on Tuesday.",
}


def test_minhash_finds_record_copies_and_keeps_distinct_records():
    index = MinHashIndex(0.8)
    text = "\n".join(RECORD.values())
    assert index.check_and_add("r0", text) is None
    assert index.check_and_add("r1", text.replace("Tuesday.", "Tuesday!")) == "r0"
    other = "Name three rivers in Africa.\n\nThe Nile, the Congo and the Niger."
    assert index.check_and_add("r2", other) is None
    assert len(index) == 2
    key, jaccard = index.check(other)
    assert key == "r2" and jaccard == 1.0


DEDUP_ONLY = SieveOptions(filters=None)


def test_sieve_records_applies_rouge_then_minhash_in_order():
    copy_with_new_instruction = dict(RECORD, instruction="Give a short summary of this text.")
    records = [
        RECORD,
        dict(RECORD, instruction="Summarize the article!"),  # rouge duplicate of record 0
        {"instruction": "Name three rivers in Africa.", "input": "", "output": "Nile, Congo, Niger."},
        copy_with_new_instruction,  # new instruction, same input/output: MinHash duplicate
        {"instruction": "Write a haiku about the sea.", "input": "", "output": "Waves fold..."},
    ]
    sieved = sieve_records(records, SieveOptions(filters=None, minhash_threshold=0.7),
                           seeds=["Write a haiku about the sea."])
    assert sieved.kept == [0, 2] and sieved.counts == {"before": 5, "after": 2}
    assert [(d["record_index"], d["drop_reason"]) for d in sieved.dropped] == [
        (1, "rouge_duplicate"), (3, "minhash_duplicate"), (4, "rouge_duplicate")]
    assert sieved.drops == {"rouge_duplicate": 2, "minhash_duplicate": 1}
    rouge_drop, minhash_drop, seed_drop = sieved.dropped
    assert rouge_drop["collided_with"] == "Summarize the article." and rouge_drop["rouge_l"] == 1.0
    # A MinHash collision names the kept record's instruction, as a ROUGE-L one does (not its position).
    assert minhash_drop["collided_with"] == RECORD["instruction"] and minhash_drop["rouge_l"] is None
    assert seed_drop["collided_with"] == "Write a haiku about the sea."


def test_sieve_records_matches_exhaustive_rule_without_minhash():
    seeds = make_stream(4, 20, planted=0.0)
    stream = make_stream(5, 200)
    sieved = sieve_records(({"instruction": s} for s in stream), DEDUP_ONLY, seeds=seeds)
    reference = exhaustive_rouge_decisions(stream, seeds, 0.7)
    assert sieved.kept == [i for i, (kept, _) in enumerate(reference) if kept]
    assert all(d["drop_reason"] == "rouge_duplicate" for d in sieved.dropped)


CJK = ["写", "诗", "秋", "天", "的", "一", "首", "关", "于", "春"]


def make_mixed_stream(seed: int, size: int) -> list[str]:
    """Latin words and Chinese characters: the two tokenizers split these differently."""
    rng = random.Random(seed)
    stream = make_stream(seed, size)
    return [text + "".join(rng.choice(CJK) for _ in range(rng.randint(0, 6))) if rng.random() < 0.5 else text
            for text in stream]


def brute_force_decisions(stream: list[str], threshold: float, tokenizer: str) -> list[bool]:
    pool: list[list[str]] = []
    kept = []
    for text in stream:
        tokens = tokenize(text, tokenizer)
        keep = not any(rouge_l(tokens, other) > threshold for other in pool)
        if keep:
            pool.append(tokens)
        kept.append(keep)
    return kept


@pytest.mark.parametrize("tokenizer", ["rouge", "unicode"])
def test_blocks_decide_like_the_exhaustive_rule_with_both_tokenizers(monkeypatch, tokenizer):
    monkeypatch.setattr(rouge_index, "BLOCK", 64)  # many blocks, and many pairs inside one block
    stream = make_mixed_stream(6, 1500)
    verdicts = RougeIndex(0.7, tokenizer, report_floor=0.7).check_and_add_many(stream)
    assert [not v.duplicate for v in verdicts] == brute_force_decisions(stream, 0.7, tokenizer)
    assert sum(v.duplicate for v in verdicts) > 100


@pytest.mark.parametrize("tokenizer", ["rouge", "unicode"])
def test_check_and_add_many_equals_one_at_a_time(monkeypatch, tokenizer):
    monkeypatch.setattr(rouge_index, "BLOCK", 50)
    seeds = make_stream(8, 40, planted=0.0)
    stream = make_mixed_stream(9, 1200)
    one = RougeIndex(0.7, tokenizer)
    for seed in seeds:
        one.add(seed)
    many = RougeIndex(0.7, tokenizer)
    for seed in seeds:
        many.add(seed)
    assert many.check_and_add_many(stream) == [one.check_and_add(text) for text in stream]
    assert len(one) == len(many)


def test_admit_keeps_a_survivor_out_of_the_pool():
    index = RougeIndex(0.7)
    texts = ["Write a poem about the sea.", "Write a poem about the sea!", "Write a poem about the sea?"]
    asked = []
    verdicts = index.check_and_add_many(texts, admit=lambda i: asked.append(i) or i > 0)
    # Text 0 is refused by the later rule, so text 1 does not collide with it; text 2 collides with 1.
    assert asked == [0, 1] and [v.duplicate for v in verdicts] == [False, False, True]
    assert verdicts[2].nearest_id == 0 and index.text(0) == texts[1]


EDGE_TEXTS = ["", "!!!", "cat", "Cat.", "dog", "a a a a", "a a a", "the the cat the", "the cat the the",
              "Write a poem", "write a POEM!", "K\u212a", "\u0130stanbul is big", "istanbul is big",
              "一首诗", "写一首诗", "Give me one two three four five six seven eight",
              "Give me one two three four five eleven twelve thirteen"]  # 2 * LCS / (m + n) = 0.7 exactly


def make_edge_stream(seed: int, size: int) -> list[str]:
    """Empty and one-token texts, repeated tokens, non-ASCII case rules and pairs at exactly F = 0.7,
    mixed into a random stream."""
    rng = random.Random(seed)
    return [rng.choice(EDGE_TEXTS) if rng.random() < 0.3 else text for text in make_mixed_stream(seed, size)]


@pytest.mark.parametrize("tokenizer", ["rouge", "unicode"])
@pytest.mark.parametrize("rare_df", [0, 64, 10**9])  # pairs only, both kinds of keys, single elements only
def test_edge_texts_decide_alike_batched_one_at_a_time_and_exhaustively(monkeypatch, tokenizer, rare_df):
    monkeypatch.setattr(rouge_index, "BLOCK", 37)
    monkeypatch.setattr(rouge_candidates, "RARE_DF", rare_df)
    monkeypatch.setattr(rouge_candidates, "SPLIT", 4)  # most lists kept by text length
    stream = make_edge_stream(11, 600)
    many = RougeIndex(0.7, tokenizer, report_floor=0.7)
    # A first batch smaller than the pool keeps the ranks (new elements rank rarest), a second re-ranks.
    batched = many.check_and_add_many(stream[:400]) + many.check_and_add_many(stream[400:])
    one = RougeIndex(0.7, tokenizer, report_floor=0.7)
    single = [one.check_and_add(text) for text in stream]
    assert batched == single
    assert [not v.duplicate for v in single] == brute_force_decisions(stream, 0.7, tokenizer)
    a, b = tokenize(EDGE_TEXTS[-2], tokenizer), tokenize(EDGE_TEXTS[-1], tokenizer)
    assert (lcs_length(a, b), len(a) + len(b)) == (7, 20)  # the pair at the threshold is in the stream


@pytest.mark.parametrize("tokenizer", ["rouge", "unicode"])
def test_batch_reading_equals_one_text_at_a_time(tokenizer):
    from records.rouge import token_codes
    from selfinstruct.rouge_batch import codes_of, read_batch, signature_words

    stream = make_edge_stream(12, 300)
    index = RougeIndex(0.7, tokenizer)
    batch = read_batch(stream, tokenizer, index._vocab, index._filter)
    filt = index._filter
    ordered = filt.order_many(batch.starts, batch.elements)
    keys, last, offsets = filt.pairs_many(batch.starts, ordered)
    codes = codes_of(batch.tokens, batch.starts, 0, len(stream))
    for i, text in enumerate(stream):
        ids = [index._vocab[t] for t in tokenize(text, tokenizer)]
        lo, hi = batch.starts[i], batch.starts[i + 1]
        assert batch.tokens[lo:hi].tolist() == ids and codes[i] == token_codes(ids)
        assert batch.elements[lo:hi].tolist() == list(filt.elements(ids))
        assert batch.sigs[i].tolist() == signature_words(filt.elements(ids))
        assert ordered[lo:hi].tolist() == filt.order(filt.elements(ids))
        one = filt.pairs_of(filt.order(filt.elements(ids)))
        assert (keys[offsets[i]:offsets[i + 1]].tolist(), last[offsets[i]:offsets[i + 1]].tolist()) == one


def test_rerank_builds_the_postings_one_text_at_a_time_would(monkeypatch):
    monkeypatch.setattr(rouge_candidates, "SPLIT", 4)
    index = RougeIndex(0.5)  # a low level: very short texts are indexed under single elements too
    for text in make_edge_stream(13, 400):
        index.add(text)
    filt = index._filter
    filt.rerank()
    pairs, singles = filt._pairs, filt._singles
    filt._pairs, filt._singles = {}, {}
    for rid, elements in enumerate(filt._elements):
        if elements:
            filt._index(rid, filt.order(elements))
    assert pairs == filt._pairs and singles == filt._singles and singles
    assert any(type(got) is list for got in pairs.values())
