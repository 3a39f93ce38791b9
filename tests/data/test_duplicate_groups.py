"""Duplicate groups come from the text as the model sees it: whatever cleaning steps an
experiment uses, two rows with the same cleaned text share a group (so a split or fold can never
put the same model input on both sides)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sentiment_core.data import STEPS, duplicate_groups, make_cleaner

WORDS = ["soooo", "sooo", "so", "good", "GOOD", "the", "not", "@bob", "#win", "http://t.co/x",
         "RT", "&amp;", "🙂", "!!!", "don't", "dont", "a_b"]
texts = st.lists(st.lists(st.sampled_from(WORDS), min_size=1, max_size=6).map(" ".join),
                 min_size=2, max_size=25)


@settings(max_examples=60, deadline=None)
@given(texts=texts, steps=st.lists(st.sampled_from(sorted(STEPS)), unique=True))
def test_same_cleaned_text_means_same_group(texts, steps):
    clean = make_cleaner(steps)
    cleaned = [clean(t) for t in texts]
    groups = duplicate_groups(texts, cleaned)
    for i in range(len(texts)):
        for j in range(i + 1, len(texts)):
            if cleaned[i] == cleaned[j]:
                assert groups[i] == groups[j], (texts[i], texts[j], steps)


def test_retweets_and_repeated_letters_group_together():
    texts = ["RT @a: soooo good", "sooo good", "so good", "bad day"]
    cleaned = [make_cleaner(["rt_marker", "mentions", "lowercase", "repeated_chars"])(t)
               for t in texts]
    groups = duplicate_groups(texts, cleaned)
    # "soooo" and "sooo" both clean to "soo": one group with the retweet; "so good" differs
    assert groups[0] == groups[1] != groups[2] != groups[3]


def test_a_large_corpus_is_cleaned_in_worker_processes_with_the_same_result(monkeypatch):
    from sentiment_core.data import cleaning

    rows = [" ".join(WORDS[(i * 7 + j) % len(WORDS)] for j in range(i % 5 + 1))
            for i in range(400)]
    steps = ["html_entities", "mentions", "lowercase", "punctuation", "repeated_chars"]
    serial = cleaning.clean_all(rows, steps, workers=1)
    serial_groups = duplicate_groups(rows, serial)
    monkeypatch.setattr(cleaning, "PARALLEL_ROWS", 100)  # 400 rows: the pool path
    assert cleaning.clean_all(rows, steps, workers=2) == serial == [make_cleaner(steps)(t)
                                                                     for t in rows]
    assert (duplicate_groups(rows, serial) == serial_groups).all()
