"""MinHash LSH over texts: near-duplicates by estimated Jaccard similarity, without comparing every pair.

Used by the generator's record dedup (word 3-gram shingles of whole records) and by the registry's
diff (word sets of rows, confirmed there with the exact Jaccard).
"""

from __future__ import annotations

from collections.abc import Iterable

from records.rouge import tokenize


class MinHashIndex:
    """MinHash LSH over word n-grams of whole texts; flags texts at Jaccard >= threshold.

    LSH only proposes candidates (bucket collisions); each is confirmed with the MinHash
    Jaccard estimate, and the most similar confirmed key is returned. Texts are split with
    the "unicode" tokenizer (casefolded words of any script) into `ngram`-word shingles;
    a text shorter than `ngram` words is one shingle.
    """

    def __init__(self, threshold: float, num_perm: int = 128, seed: int = 1, ngram: int = 3) -> None:
        from datasketch import MinHash, MinHashLSH

        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"minhash threshold must be in (0, 1], got {threshold}")
        if ngram < 1:
            raise ValueError(f"ngram must be >= 1, got {ngram}")
        self.threshold = threshold
        self.ngram = ngram
        self._template = MinHash(num_perm=num_perm, seed=seed)
        self._lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        self._minhashes: dict[str, object] = {}

    def __len__(self) -> int:
        return len(self._minhashes)

    def shingles(self, text: str) -> list[bytes]:
        """The distinct `ngram`-word shingles of `text`, UTF-8 encoded."""
        words = tokenize(text, "unicode")
        n = self.ngram
        if len(words) <= n:
            return [" ".join(words).encode()]
        return list({" ".join(words[i : i + n]).encode() for i in range(len(words) - n + 1)})

    def signature(self, shingles: Iterable[bytes]):
        """The MinHash signature of a set of shingles (for callers that shingle in their own way)."""
        mh = self._template.copy()
        mh.update_batch(list(shingles))
        return mh

    def minhash(self, text: str):
        """The MinHash signature of `text`."""
        return self.signature(self.shingles(text))

    def check(self, text: str) -> tuple[str | None, float]:
        """(key, estimated Jaccard) of the most similar stored text at >= threshold, else (None, 0.0)."""
        return self.nearest(self.minhash(text))

    def check_and_add(self, key: str, text: str) -> str | None:
        """Return the key of a stored near-duplicate of `text`, or store `text` under `key`."""
        mh = self.minhash(text)
        found, _ = self.nearest(mh)
        if found is None:
            self.insert(key, mh)
        return found

    def insert(self, key: str, mh) -> None:
        """Store a signature from `minhash` under a new `key`."""
        if key in self._minhashes:
            raise ValueError(f"key {key!r} is already in the MinHash index")
        self._lsh.insert(key, mh)
        self._minhashes[key] = mh

    def candidates(self, mh) -> list:
        """The stored keys whose signatures share an LSH bucket with `mh` (unconfirmed)."""
        return self._lsh.query(mh)

    def nearest(self, mh) -> tuple[str | None, float]:
        """(key, estimated Jaccard) of the most similar stored signature at >= threshold."""
        best_key, best = None, 0.0
        for key in self.candidates(mh):
            score = mh.jaccard(self._minhashes[key])
            if score >= self.threshold and (best_key is None or score > best):
                best_key, best = key, score
        return best_key, best
