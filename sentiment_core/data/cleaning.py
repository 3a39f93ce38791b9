"""Named, composable text-cleaning steps (seeds 000/001), applied in the order the YAML lists them.

    clean = make_cleaner(["html_entities", "urls", "mentions", "lowercase", "punctuation"])
    clean("RT @user: Great debate!!! http://t.co/x")  ->  "rt great debate"
"""

from __future__ import annotations

import functools
import html
import os
import re
from collections.abc import Callable, Iterable

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_MENTION = re.compile(r"@\w+")
_HASHTAG = re.compile(r"#(\w+)")
_RT = re.compile(r"^\s*rt\b:?\s*", re.IGNORECASE)
# Emoji, pictographs, dingbats, flags and the joiners/selectors that glue them together.
_EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\U0001F1E6-\U0001F1FF\u200d\ufe0f]+")
_APOSTROPHE = re.compile(r"['’`]")
_PUNCTUATION = re.compile(r"[^\w\s]|_")
_REPEATS = re.compile(r"(\w)\1{2,}")
_SPACES = re.compile(r"\s+")


@functools.cache
def _stopwords() -> frozenset[str]:
    """scikit-learn's English stop words (imported on first use: the import costs ~0.9 s),
    less the negations, which carry sentiment."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS) - {"no", "not", "nor", "never", "nothing", "none",
                                            "cannot", "against", "without"}


STEPS: dict[str, Callable[[str], str]] = {
    "html_entities": html.unescape,  # &amp; -> &
    "rt_marker": lambda t: _RT.sub("", t),
    "urls": lambda t: _URL.sub(" ", t),
    "mentions": lambda t: _MENTION.sub(" ", t),
    "hashtag_sign": lambda t: _HASHTAG.sub(r"\1", t),  # keep the word, drop '#'
    "emoji": lambda t: _EMOJI.sub(" ", t),
    "lowercase": str.lower,
    "punctuation": lambda t: _PUNCTUATION.sub(" ", _APOSTROPHE.sub("", t)),  # don't -> dont
    "repeated_chars": lambda t: _REPEATS.sub(r"\1\1", t),  # soooo -> soo
    "stopwords": lambda t: " ".join(w for w in t.split() if w.lower() not in _stopwords()),
}


def make_cleaner(steps: Iterable[str]) -> Callable[[str], str]:
    chain = [STEPS[name] for name in steps]

    def clean(text: str) -> str:
        for step in chain:
            text = step(text)
        return _SPACES.sub(" ", text).strip()

    return clean


NORMALIZE = ("html_entities", "rt_marker", "urls", "mentions", "hashtag_sign", "emoji",
             "lowercase", "punctuation")
_normalize = make_cleaner(NORMALIZE)
PARALLEL_ROWS = 100_000  # below this, starting worker processes costs more than it saves


def clean_all(texts: list[str], steps: Iterable[str], workers: int | None = None) -> list[str]:
    """`make_cleaner(steps)` over every text; a large corpus is cut into chunks cleaned by
    worker processes (the regex steps run row by row in Python: one core each)."""
    steps = tuple(steps)
    workers = workers or min(os.cpu_count() or 1, 8)
    if workers < 2 or len(texts) < PARALLEL_ROWS:
        return list(map(make_cleaner(steps), texts))
    import concurrent.futures as cf
    import multiprocessing as mp

    size = -(-len(texts) // (workers * 4))
    chunks = [texts[i:i + size] for i in range(0, len(texts), size)]
    # spawned, not forked: the caller may hold TensorFlow's threads
    with cf.ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as pool:
        return [t for part in pool.map(_clean_chunk, [steps] * len(chunks), chunks) for t in part]


def _clean_chunk(steps: tuple[str, ...], texts: list[str]) -> list[str]:
    return list(map(make_cleaner(steps), texts))


def duplicate_key(text: str) -> str:
    """A key equal for a tweet and its retweets/near copies, whatever cleaning the experiment uses."""
    return _normalize(text)


def duplicate_groups(texts: Iterable[str], cleaned: Iterable[str],
                     near: bool = True) -> np.ndarray:
    """Group id per row: rows are one group when their raw texts share a duplicate key (a tweet
    and its retweets), OR their cleaned texts normalize alike (the model would see the same input:
    "soooo good" and "sooo good" after repeated_chars), OR (`near`) one is a near-copy of the
    other (`near_duplicates`: truncated retweets, quote tweets, a few words added), transitively."""
    from .near_duplicates import containment_pairs

    texts, cleaned = list(texts), list(cleaned)
    normalized = clean_all(texts + cleaned, NORMALIZE)  # one pool for both
    keys = [f"raw:{k}" for k in normalized[:len(texts)]]
    seen = [f"clean:{c}" for c in normalized[len(texts):]]
    if len(keys) != len(seen):
        raise ValueError("texts and cleaned texts differ in length")
    ids = {k: i for i, k in enumerate(dict.fromkeys(keys + seen))}
    rows = np.arange(len(keys))
    # a bipartite graph row -> key; its connected components are the groups
    heads = np.concatenate([[ids[k] for k in keys], [ids[k] for k in seen]]).astype(np.int64)
    tails = np.concatenate([rows, rows])
    if near and texts:
        # near-copies among the distinct normalized texts, joined through their raw keys
        distinct = list(dict.fromkeys(normalized[:len(texts)]))
        pairs = containment_pairs(distinct)
        tails = np.concatenate([tails, len(keys) + np.array(
            [ids[f"raw:{distinct[i]}"] for i in pairs[:, 0]], np.int64)])
        heads = np.concatenate([heads, [ids[f"raw:{distinct[j]}"] for j in pairs[:, 1]]])
        heads = heads.astype(np.int64)
    n = len(keys) + len(ids)
    graph = coo_matrix((np.ones(len(heads)), (tails, len(keys) + heads)), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    return np.unique(component[:len(keys)], return_inverse=True)[1]
