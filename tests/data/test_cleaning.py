import pytest

from sentiment_core.data import STEPS, duplicate_key, make_cleaner


@pytest.mark.parametrize("step, text, expected", [
    ("html_entities", "Q&amp;A &gt; all", "Q&A > all"),
    ("urls", "see http://t.co/abc now", "see now"),
    ("mentions", "@GOP you said", "you said"),
    ("hashtag_sign", "#GOPDebate tonight", "GOPDebate tonight"),
    ("rt_marker", "RT @x: hello", "@x: hello"),
    ("emoji", "wow 😂🇺🇸 ok", "wow ok"),
    ("lowercase", "Trump WON", "trump won"),
    ("punctuation", "don't... stop!", "dont stop"),
    ("repeated_chars", "sooooo good", "soo good"),
    ("stopwords", "this is not the best", "not best"),
])
def test_each_step(step, text, expected):
    assert make_cleaner([step])(text) == expected


def test_steps_compose_in_order():
    clean = make_cleaner(["html_entities", "rt_marker", "urls", "mentions", "hashtag_sign",
                          "lowercase", "punctuation", "repeated_chars"])
    assert clean("RT @GOP: Sooooo #Proud &amp; happy!!! http://t.co/x") == "soo proud happy"
    assert set(STEPS) >= {"lowercase", "urls", "mentions", "emoji", "stopwords"}


def test_retweet_and_original_share_a_duplicate_key():
    original = "Great answer by @JebBush on #immigration http://t.co/a1"
    assert duplicate_key(f"RT @someone: {original}") == duplicate_key(original)
    assert duplicate_key("GREAT answer by jeb bush!") != duplicate_key(original)
