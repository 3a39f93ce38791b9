"""Known datasets: where each file comes from, how to check it, and which columns mean what.

Files live in the data directory (`--data-dir`, `SENTIMENT_HPO_DATA_DIR`, default `data/`); nothing
here is ever copied into the repository. `fetch` downloads a file by its pinned URL and checks sha256.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError

DEFAULT_DATA_DIR = "data"


@dataclass(frozen=True)
class Dataset:
    name: str
    filename: str
    sha256: str
    text_column: str
    label_column: str
    label_mapping: dict[str, str]  # raw label -> negative | neutral | positive | drop
    group_column: str | None = None
    url: str | None = None  # pinned to a commit; None where the file is a conversion
    description: str = ""
    source: str = field(default="", repr=False)


REGISTRY: dict[str, Dataset] = {d.name: d for d in [
    Dataset(
        name="gop-debate",
        filename="first_gop_debate_Sentiment.csv",
        sha256="83beb7691f876f9a762613e7c262f7a777a529cccfb96478089e912f1292c61c",
        text_column="text", label_column="sentiment", group_column="candidate",
        label_mapping={"Negative": "negative", "Neutral": "neutral", "Positive": "positive"},
        url="https://raw.githubusercontent.com/Zutyro/sentimentAnalysis/"
            "9ca1f1043d1852984cc6ae1271b93a79f18a4663/Sentiment.csv",
        description="CrowdFlower First GOP Debate tweets (Aug 2015), human sentiment + candidate; "
                    "13,871 rows; CC BY-NC-SA 4.0",
    ),
    Dataset(
        name="airline",
        filename="airline_Airline-Sentiment-2-w-AA.csv",
        sha256="a6af66925c7efc516d0803a465fcf852075b96f7498065c4c26cb34fb1a2a5f7",
        text_column="text", label_column="airline_sentiment", group_column="airline",
        label_mapping={"negative": "negative", "neutral": "neutral", "positive": "positive"},
        url="https://raw.githubusercontent.com/lonnabarlow/sentimental_visual/"
            "da136e5579620a187e1480042b3a91c1d9fe55ec/Airline-Sentiment-2-w-AA.csv",
        description="CrowdFlower Twitter US Airline Sentiment (Feb 2015); 14,640 rows; "
                    "CC BY-NC-SA 4.0",
    ),
    Dataset(
        name="rt-polarity",
        filename="rt_polarity.csv",
        sha256="332dac18b1b6a00af2ad6281b9ca963e9eb82bea719daca7b3988ff3ec244535",
        text_column="text", label_column="label",
        label_mapping={"pos": "positive", "neg": "negative"},
        description="Pang & Lee 2005 movie-review sentences (MR), converted from cp1252 .pos/.neg",
    ),
    Dataset(
        name="tweeteval-sentiment-val",
        filename="tweeteval_sentiment_val.csv",
        sha256="99618dda678698226e1cc058b5b5adee8238af31273d19d410af4a3b3673bb54",
        text_column="text", label_column="label",
        label_mapping={"0": "negative", "1": "neutral", "2": "positive"},
        description="TweetEval sentiment (SemEval-2017 4A), validation split, 2,000 rows",
    ),
    *[Dataset(
        name=f"tweeteval-stance-hillary-{split}",
        filename=f"tweeteval_stance_hillary_{split}.csv",
        sha256=sha,
        text_column="text", label_column="label",
        # stance, not sentiment: favor/against read as positive/negative toward Clinton
        label_mapping={"0": "neutral", "1": "negative", "2": "positive"},
        description=f"TweetEval stance toward Hillary Clinton (SemEval-2016 6A), {split} split",
    ) for split, sha in [
        ("train", "44f4d75d2332d052f89063636e353d7085bb36770be57c9d7e5329d8b485b11f"),
        ("val", "9993a385f4cd1950bcc7b14765c1f84ee048371c020da5dfe146ec5621b79f2a"),
        ("test", "f8a719ad974c5fc2aeb8a2c1fe6faa7cb9beba07e3beca2ab41d4f1e84362877"),
    ]],
]}


def data_dir(explicit: str | Path | None = None) -> Path:
    return Path(explicit or os.environ.get("SENTIMENT_HPO_DATA_DIR") or DEFAULT_DATA_DIR)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def locate(dataset: Dataset, directory: Path) -> Path:
    """The dataset's file in `directory`, or an InputError saying how to get it."""
    path = directory / dataset.filename
    if path.exists():
        return path
    how = (f"run `sentiment-hpo data fetch {dataset.name}`" if dataset.url
           else "copy it there (see PROVENANCE in the shared data folder)")
    raise InputError(path, None, f"missing: not found in DATA_DIR={directory}; {how}")


def fetch(name: str, directory: Path, progress=print) -> Path:
    """Download a registered file by its pinned URL into `directory` and check its sha256."""
    if name not in REGISTRY:
        raise InputError("data fetch", "DATASET", f"unknown dataset {name!r} "
                                                  f"(known: {', '.join(REGISTRY)})")
    dataset = REGISTRY[name]
    target = directory / dataset.filename
    if target.exists() and sha256_of(target) == dataset.sha256:
        progress(f"{target} is already there (sha256 ok)")
        return target
    if not dataset.url:
        raise InputError("data fetch", name, "has no public pinned URL; copy the file into "
                                             f"{directory} (see the shared PROVENANCE.md)")
    directory.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(target.suffix + ".part")
    progress(f"downloading {dataset.url}")
    try:
        with urllib.request.urlopen(dataset.url, timeout=60) as response, \
                open(partial, "wb") as out:
            shutil.copyfileobj(response, out)
    except OSError as err:
        partial.unlink(missing_ok=True)
        raise InputError(dataset.url, None, f"download failed ({err})") from None
    actual = sha256_of(partial)
    if actual != dataset.sha256:
        partial.unlink()
        raise InputError(dataset.url, "sha256", f"expected {dataset.sha256}, got {actual}")
    partial.replace(target)
    progress(f"saved {target} (sha256 ok)")
    return target
