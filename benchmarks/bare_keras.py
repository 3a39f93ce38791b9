"""The seed's way, as a bare script: read the CSV, clean, tokenize, pad, split, fit (validation
each epoch). The baseline `platform_tax.py` sets `sentiment-hpo train` against; not used by the
platform. Same model as the platform's `lstm` family (Embedding(mask_zero) -> LSTM -> Dense(ReLU)
-> Dropout -> sigmoid) with Table 5's best parameters.

So that both sides train the same model on the same examples, `--split` takes the platform's
train/validation file rows (duplicates grouped; `platform_tax.py` writes them) and the vocabulary
is built the platform's way: train split only, tokens seen >= `--min-count` times, at most
`--max-tokens`, so the Embedding has as many rows as the platform's. Without `--split` the rows
are shuffled and cut 70/15/15 as the seed did.

    python -m benchmarks.bare_keras [--epochs 2] [--split rows.json]   # one JSON line of timings
"""

import argparse
import json
import os
import re
import time
from collections import Counter

START = time.perf_counter()

import keras
import numpy as np
import pandas as pd

PARAMS = {"learning_rate": 0.007169632435246209, "dropout_rate": 0.04510561357026982,
          "lstm_units": 10, "neurons_dense": 18, "batch_size": 806, "embedding_size": 173}


def clean(text: str) -> str:
    text = re.sub(r"https?://\S+|@\w+|^RT\b", " ", text.lower())
    return re.sub(r"[^a-z0-9#' ]+", " ", text).replace("#", "")


class TrainClock(keras.callbacks.Callback):
    """Training time of each epoch, up to its validation pass."""

    train_s = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self.began, self.counted = time.perf_counter(), False

    def on_test_begin(self, logs=None):
        if not self.counted:
            self.train_s += time.perf_counter() - self.began
            self.counted = True


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--split", help="JSON {train: [file rows], val: [file rows]}")
    parser.add_argument("--max-tokens", type=int, default=20000)
    parser.add_argument("--min-count", type=int, default=2)
    args = parser.parse_args()
    keras.utils.set_random_seed(2016)
    path = os.path.join(os.environ.get("SENTIMENT_HPO_DATA_DIR", "data"),
                        "first_gop_debate_Sentiment.csv")
    frame = pd.read_csv(path)
    if args.split:  # the platform's rows: positions in the file, duplicates kept on one side
        with open(args.split) as f:
            rows = json.load(f)
        train, val = np.asarray(rows["train"]), np.asarray(rows["val"])
    else:
        kept = np.flatnonzero((frame["sentiment"] != "Neutral").to_numpy())
        order = np.random.default_rng(2016).permutation(kept)
        n_val = n_test = int(0.15 * len(kept))
        val, train = order[:n_val], order[n_val + n_test:]
    texts = frame["text"].astype(str).map(clean).to_numpy()
    labels = (frame["sentiment"] == "Positive").to_numpy().astype("float32")
    tokenized = time.perf_counter()
    counts = Counter(token for text in texts[train] for token in text.split())
    kept_tokens = sorted((t for t, c in counts.items() if c >= args.min_count),
                         key=lambda t: (-counts[t], t))[: args.max_tokens - 2]
    vectorizer = keras.layers.TextVectorization(output_sequence_length=40, standardize=None,
                                                vocabulary=kept_tokens)
    vocabulary_size = vectorizer.vocabulary_size()  # + padding and [UNK]
    x_train, x_val = (np.asarray(vectorizer(texts[part])) for part in (train, val))
    tokenize_s = time.perf_counter() - tokenized
    p = PARAMS
    tokens = keras.Input((40,), dtype="int32")
    x = keras.layers.Embedding(vocabulary_size, p["embedding_size"], mask_zero=True)(tokens)
    x = keras.layers.LSTM(p["lstm_units"])(x)
    x = keras.layers.Dense(p["neurons_dense"], activation="relu")(x)
    x = keras.layers.Dropout(p["dropout_rate"])(x)
    model = keras.Model(tokens, keras.layers.Dense(1, activation="sigmoid")(x))
    model.compile(keras.optimizers.Adam(p["learning_rate"]), "binary_crossentropy",
                  metrics=["binary_accuracy"])
    clock = TrainClock()
    fitting = time.perf_counter()
    model.fit(x_train, labels[train], validation_data=(x_val, labels[val]),
              epochs=args.epochs, batch_size=p["batch_size"], verbose=0, callbacks=[clock])
    fit_s = time.perf_counter() - fitting
    rows = len(train) * args.epochs
    print(json.dumps({"train_rows": len(train), "val_rows": len(val),
                      "vocabulary_size": vocabulary_size, "tokenize_s": tokenize_s, "fit_s": fit_s,
                      "train_s": clock.train_s, "train_samples_per_s": rows / clock.train_s,
                      "wall_s": time.perf_counter() - START}))


if __name__ == "__main__":
    main()
