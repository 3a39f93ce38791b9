"""The seed's way, as a bare script: read the CSV, clean, tokenize, pad, split, fit (validation
each epoch). The baseline `platform_tax.py` sets `sentiment-hpo train` against; not used by the
platform. Same model as the platform's `lstm` family (Embedding(mask_zero) -> LSTM -> Dense(ReLU)
-> Dropout -> sigmoid) with Table 5's best parameters.

    python -m benchmarks.bare_keras [--epochs 2]     # prints one JSON line of timings
"""

import argparse
import json
import os
import re
import time

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
    args = parser.parse_args()
    keras.utils.set_random_seed(2016)
    path = os.path.join(os.environ.get("SENTIMENT_HPO_DATA_DIR", "data"),
                        "first_gop_debate_Sentiment.csv")
    frame = pd.read_csv(path)
    frame = frame[frame["sentiment"] != "Neutral"]
    texts = frame["text"].astype(str).map(clean).to_numpy()
    labels = (frame["sentiment"] == "Positive").to_numpy().astype("float32")
    tokenized = time.perf_counter()
    vectorizer = keras.layers.TextVectorization(max_tokens=20000, output_sequence_length=40,
                                                standardize=None)
    vectorizer.adapt(texts)
    ids = np.asarray(vectorizer(texts))
    tokenize_s = time.perf_counter() - tokenized
    order = np.random.default_rng(2016).permutation(len(ids))
    n_val = n_test = int(0.15 * len(ids))
    val, train = order[:n_val], order[n_val + n_test:]
    p = PARAMS
    tokens = keras.Input((40,), dtype="int32")
    x = keras.layers.Embedding(20000, p["embedding_size"], mask_zero=True)(tokens)
    x = keras.layers.LSTM(p["lstm_units"])(x)
    x = keras.layers.Dense(p["neurons_dense"], activation="relu")(x)
    x = keras.layers.Dropout(p["dropout_rate"])(x)
    model = keras.Model(tokens, keras.layers.Dense(1, activation="sigmoid")(x))
    model.compile(keras.optimizers.Adam(p["learning_rate"]), "binary_crossentropy",
                  metrics=["binary_accuracy"])
    clock = TrainClock()
    fitting = time.perf_counter()
    model.fit(ids[train], labels[train], validation_data=(ids[val], labels[val]),
              epochs=args.epochs, batch_size=p["batch_size"], verbose=0, callbacks=[clock])
    fit_s = time.perf_counter() - fitting
    rows = len(train) * args.epochs
    print(json.dumps({"train_rows": len(train), "tokenize_s": tokenize_s, "fit_s": fit_s,
                      "train_s": clock.train_s, "train_samples_per_s": rows / clock.train_s,
                      "wall_s": time.perf_counter() - START}))


if __name__ == "__main__":
    main()
