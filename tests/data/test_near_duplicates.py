"""Near-duplicate groups on realistic copies (truncated retweets cut mid-word with "…", quote
tweets with a comment, a few words added), checked with the independent measure of
`data.leakage` (>= 8 words all but the last equal, or Jaccard >= 0.9 of word 3-shingles), never
with the key that built the groups."""

from __future__ import annotations

import random

import numpy as np
import pytest

from sentiment_core.data import containment_pairs, duplicate_groups, leak_free_split, near_copies
from sentiment_core.data.cleaning import NORMALIZE, make_cleaner

WORDS = ("debate trump fox megyn kelly question answer crowd stage tonight border wall jobs "
         "tax plan women rubio bush carson walker cruz paul huckabee christie kasich military "
         "purpose people things ratings history voters america great disaster moderator "
         "loser winner honest liar record policy iran deal").split()


def originals(n: int, rng: random.Random) -> list[str]:
    return [f"@{rng.choice(WORDS)}{i} " + " ".join(rng.choices(WORDS, k=rng.randint(12, 22)))
            + f" #GOPDebate{'s' if i % 2 else ''}" + (" http://t.co/abc" if i % 3 else "")
            for i in range(n)]


def truncated_retweet(text: str, rng: random.Random) -> str:
    """What Twitter shows of a retweet that does not fit: cut mid-word, then '…'."""
    full = f"RT @fan{rng.randint(0, 99)}: {text}"
    cut = rng.randint(int(len(full) * 0.7), len(full) - 6)
    return full[:cut] + "…"


def quote_tweet(text: str, rng: random.Random) -> str:
    return f"“{text}” " + " ".join(rng.choices(WORDS, k=3))


def words_added(text: str, rng: random.Random, at: int | None = None) -> str:
    """Two words added at the end (or at word `at`)."""
    words = text.split()
    at = len(words) if at is None else at
    return " ".join(words[:at] + rng.choices(WORDS, k=2) + words[at:])


def corpus(n: int = 120, seed: int = 0) -> tuple[list[str], np.ndarray]:
    rng = random.Random(seed)
    texts = originals(n, rng)
    labels = [rng.random() < 0.4 for _ in texts]
    make = (truncated_retweet, quote_tweet, words_added)
    for i in range(n):  # one or two copies of each original, of a random kind
        for _ in range(rng.randint(1, 2)):
            texts.append(rng.choice(make)(texts[i], rng))
            labels.append(labels[i])
    return texts, np.array(labels, int)


def test_the_fixtures_are_near_copies_the_exact_key_misses():
    rng = random.Random(3)
    text = originals(1, rng)[0]
    copies = [truncated_retweet(text, rng), quote_tweet(text, rng), words_added(text, rng)]
    normalize = make_cleaner(NORMALIZE)
    assert all(normalize(c) != normalize(text) for c in copies)
    assert near_copies(copies, [text]).all()
    exact = duplicate_groups([text, *copies], [text, *copies], near=False)
    assert len(set(exact)) == 4  # the old key: four groups
    assert len(set(duplicate_groups([text, *copies], [text, *copies]))) == 1
    # words added inside: beyond the independent measure's prefix rule, still one group
    inside = words_added(text, rng, at=len(text.split()) // 2)
    assert len(set(duplicate_groups([text, inside], [text, inside]))) == 1


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_no_split_row_is_a_near_copy_of_a_training_row(seed):
    texts, labels = corpus(seed=seed)
    cleaned = [make_cleaner(["rt_marker", "urls", "mentions", "lowercase", "punctuation"])(t)
               for t in texts]
    for near, expect_leak in ((False, True), (True, False)):
        groups = duplicate_groups(texts, cleaned, near=near)
        train, val, test = leak_free_split(list(groups), labels, 0.2, 0.2, seed)
        reference = [texts[i] for i in train]
        leaked = sum(near_copies([texts[i] for i in part], reference).sum()
                     for part in (val, test))
        # exact keys alone leak (the fixtures would catch the old grouping); near groups do not
        assert (leaked > 0) == expect_leak, (near, leaked)


def test_unrelated_tweets_sharing_words_stay_apart():
    base = "the purpose of the military is to kill people and break things"
    texts = [base + " said huckabee tonight on the stage",
             "megyn kelly asked trump about women and he called it unfair again tonight",
             "bush and rubio talked about the iran deal and the border wall for ten minutes"]
    assert len(containment_pairs([make_cleaner(NORMALIZE)(t) for t in texts])) == 0
    assert not near_copies(texts[1:], texts[:1]).any()


def brute_force(texts: list[str], threshold: float, minimum: int) -> set[tuple[int, int]]:
    sets = [{tuple(w[k:k + 3]) for k in range(len(w) - 2)} for w in (t.split() for t in texts)]
    out = set()
    for i in range(len(sets)):
        for j in range(i + 1, len(sets)):
            small = min(len(sets[i]), len(sets[j]))
            if small >= minimum and len(sets[i] & sets[j]) >= threshold * small - 1e-9:
                out.add((i, j))
    return out


@pytest.mark.parametrize("threshold", [0.5, 0.8, 1.0])
def test_prefix_filtering_finds_exactly_the_pairs_of_all_pairs(threshold):
    texts, _ = corpus(n=40, seed=5)
    normalized = list(dict.fromkeys(make_cleaner(NORMALIZE)(t) for t in texts))
    found = {tuple(p) for p in containment_pairs(normalized, threshold, 5).tolist()}
    assert found == brute_force(normalized, threshold, 5) and found


def test_the_independent_measure():
    full = ("RT @libertyjibbet: Hey .@realDonaldTrump You know who didn't whine about unfair "
            "questions? Carly Fiorina. #GOPDebate")
    truncated = "RT @x: Hey .@realDonaldTrump You know who didn't whine about \"unfair\" q…"
    short = "you know who didnt whine"  # under 8 words: never a near-copy by prefix
    changed_one = " ".join(f"w{i}" for i in range(30))
    changed_two = changed_one.replace("w29", "zz")  # 27 of 29 shingles shared: Jaccard 0.93
    assert near_copies([truncated, short, changed_two, "w0 w1 w2"],
                       [full, changed_one]).tolist() == [True, False, True, False]
    # the shorter one may be on either side
    assert near_copies([full], [truncated]).tolist() == [True]
