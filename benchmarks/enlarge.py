"""A larger GOP-debate corpus for scaling measurements: the real rows resampled with light
perturbation (benchmark input only; never committed, never used to judge a model).

    python -m benchmarks.enlarge --rows 1000000 --out /tmp/hpo-scale/gop_1000000.csv

Method (seeded, `--seed`, default 0): row i of the output is a uniformly drawn row of the real
file (with replacement; every column copied, so the label, candidate and column layout are the
GOP file's), whose `text` is then lightly edited on its whitespace tokens:

1. one edit, drawn uniformly among: drop a token, duplicate a token (in place), swap two
   adjacent tokens (a text of one token is left as it is);
2. one token appended, drawn from the corpus's own hashtags and numbers (e.g. `#GOPDebate`,
   `2016`): so almost every output row is a distinct text, and the duplicate groups, the split
   and the vocabulary grow with the rows as they would with new tweets of the same kind.

`id` and `tweet_id` are renumbered (unique). Labels are not changed, so a model learns nothing
new from the copies: the corpus measures time and memory, not accuracy.
"""

from __future__ import annotations

import argparse
import csv
import re
from pathlib import Path

import numpy as np

GOP_FILE = "first_gop_debate_Sentiment.csv"
_TAGS = re.compile(r"^(#\w+|\d+)$")


def enlarge(source: Path, rows: int, out: Path, seed: int = 0) -> Path:
    """Write `rows` perturbed resampled rows of `source` (the GOP CSV) to `out` (written whole,
    then renamed). Returns `out`."""
    import pandas as pd

    frame = pd.read_csv(source, dtype=str, keep_default_na=False)
    texts = frame["text"].tolist()
    extras = sorted({t for text in texts for t in text.split() if _TAGS.match(t)})
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(frame), rows)
    op = rng.integers(0, 3, rows)
    where = rng.random(rows)
    extra = rng.integers(0, len(extras), rows)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    columns = list(frame.columns)
    text_at, id_at, tweet_at = (columns.index(c) for c in ("text", "id", "tweet_id"))
    records = frame.to_numpy(dtype=object)
    with open(partial, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for i in range(rows):
            record = list(records[pick[i]])
            record[text_at] = perturb(texts[pick[i]], int(op[i]), float(where[i]),
                                      extras[extra[i]])
            record[id_at] = str(i + 1)
            record[tweet_at] = str(700000000000000000 + i)
            writer.writerow(record)
    partial.replace(out)
    return out


def perturb(text: str, op: int, where: float, extra: str) -> str:
    """Op 0 drops, 1 duplicates, 2 swaps (with the next) the token at relative position
    `where`; then `extra` is appended."""
    tokens = text.split()
    if len(tokens) > 1:
        at = min(int(where * len(tokens)), len(tokens) - 1)
        if op == 0:
            del tokens[at]
        elif op == 1:
            tokens.insert(at, tokens[at])
        else:
            at = min(at, len(tokens) - 2)
            tokens[at], tokens[at + 1] = tokens[at + 1], tokens[at]
    tokens.append(extra)
    return " ".join(tokens)


def main() -> None:
    import os

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", type=Path,
                        default=Path(os.environ.get("SENTIMENT_HPO_DATA_DIR", "data")))
    args = parser.parse_args()
    print(enlarge(args.data_dir / GOP_FILE, args.rows, args.out, args.seed))


if __name__ == "__main__":
    main()
