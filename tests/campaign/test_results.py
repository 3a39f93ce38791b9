"""RESULTS.md's one-sentence comparison (review/results.py), on rows built by hand."""

from sentiment_core.campaign.review.results import Row, sentence


def _row(test_rows: int, test_tweets: int) -> Row:
    return Row(experiment="gop", label="gop", data="gop-debate", family="wide_deep",
               test={"macro_f1": 0.70, "tweets_macro_f1": 0.74},
               baselines={"vader": {"macro_f1": 0.60},
                          "tfidf_logreg": {"macro_f1": 0.72, "tweets_macro_f1": 0.73}},
               test_rows=test_rows, test_tweets=test_tweets)


def test_the_sentence_counts_each_tweet_once_where_the_test_rows_repeat_tweets():
    text = sentence(_row(test_rows=1831, test_tweets=1032))
    assert "macro F1 0.700 is +0.100 against VADER and -0.020 against TF-IDF + LR" in text
    assert "each of its 1032 distinct texts once, 0.740 (+0.010 against TF-IDF + LR)" in text


def test_without_repeated_texts_the_per_text_figure_is_not_repeated():
    assert "distinct texts" not in sentence(_row(test_rows=500, test_tweets=500))
