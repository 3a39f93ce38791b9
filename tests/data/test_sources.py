"""Combined sources: several files, each with its own columns and label mapping, deduplicated
across sources before the split; the fingerprint covers every file."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from conftest import ROOT, make_tweets, write_csv
from sentiment_core.data import format_summary, load_labeled, prepare, split_texts, summarize
from sentiment_core.errors import InputError
from sentiment_core.experiments import experiment_from_dict, load_experiment


def two_sources(tmp_path, overlap: int = 15):
    """A tweets file (text/sentiment Positive|Negative) and a reviews file (body/stars 1|5)
    whose first `overlap` rows repeat tweets with their opposite-format labels."""
    tweets = make_tweets(120, seed=1)
    write_csv(tmp_path / "a.csv", tweets)
    repeated = [{"body": t["text"], "stars": "5" if t["sentiment"] == "Positive" else "1"}
                for t in tweets[:overlap]]
    fresh = [{"body": t["text"] + " movie", "stars": "5" if t["sentiment"] == "Positive"
              else "1"} for t in make_tweets(80, seed=2)]
    write_csv(tmp_path / "b.csv", repeated + fresh)
    return {
        "name": "combined",
        "data": {"sources": [
            {"dataset": "csv", "path": "a.csv", "text_column": "text",
             "label_column": "sentiment",
             "label_mapping": {"Negative": "negative", "Positive": "positive"}},
            {"dataset": "csv", "path": "b.csv", "text_column": "body", "label_column": "stars",
             "label_mapping": {"1": "negative", "5": "positive"}},
        ]},
        "cleaning": ["rt_marker", "urls", "mentions", "lowercase", "punctuation"],
        "split": {"validation": 0.2, "test": 0.2},
        "vectorization": {"max_tokens": 200, "sequence_length": 12},
        "model": {"family": "avgpool"},
        "search_space": str(ROOT / "tests" / "tiny_space.yaml"),
        "seed": 3,
    }


def load(tmp_path, raw):
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(raw))
    return load_experiment(path)


def test_sources_are_combined_with_their_own_columns_and_deduplicated(tmp_path):
    experiment = load(tmp_path, two_sources(tmp_path))
    labeled = load_labeled(experiment, tmp_path)
    frame = labeled.frame
    assert set(frame["source"]) == {"a.csv", "b.csv"}
    assert labeled.counts["rows_read"] == 120 + 95
    assert labeled.counts["rows_read_a.csv"] == 120 and labeled.counts["rows_read_b.csv"] == 95
    # the 15 repeated texts are kept once, from the first source
    assert labeled.counts["dropped_cross_source_duplicates"] == 15
    keys_by_source = frame.groupby("source")["key"].apply(set)
    assert not keys_by_source["a.csv"] & keys_by_source["b.csv"]
    assert frame["row"].is_unique  # rows are numbered across sources
    b_rows = frame[frame["source"] == "b.csv"]
    assert (b_rows["row"] >= 120).all()
    assert len(labeled.files) == 2
    text = format_summary(summarize(labeled))
    assert "a.csv" in text and "b.csv" in text and "dropped (dup.)      15" in text


def test_split_texts_follow_the_combined_rows(tmp_path):
    experiment = load(tmp_path, two_sources(tmp_path))
    data = prepare(experiment, tmp_path, tmp_path / "cache")
    texts = split_texts(experiment, tmp_path, data)
    for split in ("train", "val", "test"):
        assert list(texts[split]["label"]) == list(getattr(data, f"y_{split}"))
    assert set(pd.concat(texts.values())["source"]) == {"a.csv", "b.csv"}


def test_deduplicate_false_keeps_cross_source_copies_but_on_one_side(tmp_path):
    raw = two_sources(tmp_path)
    raw["data"]["deduplicate"] = False
    labeled = load_labeled(load(tmp_path, raw), tmp_path)
    assert "dropped_cross_source_duplicates" not in labeled.counts
    assert labeled.counts["rows_kept"] == labeled.counts["rows_read"] - \
        labeled.counts["dropped_label"] - labeled.counts["dropped_empty_text"]


def test_fingerprint_covers_every_file(tmp_path):
    experiment = load(tmp_path, two_sources(tmp_path))
    before = prepare(experiment, tmp_path, tmp_path / "cache").fingerprint
    second = tmp_path / "b.csv"
    second.write_text(second.read_text() + '"one more great line",5\n')
    after = prepare(experiment, tmp_path, tmp_path / "cache")
    assert after.fingerprint != before and not after.from_cache


def test_a_source_with_unmapped_labels_is_one_clear_error(tmp_path):
    raw = two_sources(tmp_path)
    raw["data"]["sources"][1]["label_mapping"] = {"1": "negative"}
    with pytest.raises(InputError, match="not in label_mapping") as err:
        load_labeled(load(tmp_path, raw), tmp_path)
    assert err.value.where.endswith("b.csv")


def test_inline_file_and_sources_together_are_refused(tmp_path):
    raw = two_sources(tmp_path)
    raw["data"]["dataset"] = "airline"
    with pytest.raises(InputError, match="not both"):
        experiment_from_dict(raw, "exp.yaml")
    raw["data"] = {"sources": [{"dataset": "nope"}]}
    with pytest.raises(InputError, match="unknown dataset") as err:
        experiment_from_dict(raw, "exp.yaml")
    assert err.value.field == "data.sources[0].dataset"
