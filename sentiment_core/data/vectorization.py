"""Token ids with Keras TextVectorization; the vocabulary comes from the train split only.

Cleaning has already normalised the text in Python (the same function runs at prediction time),
so the layer's own standardization is replaced by none and it only splits on whitespace.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from itertools import islice

import numpy as np

PAD, OOV = "", "[UNK]"


def build_vocabulary(train_texts: Iterable[str], max_tokens: int, min_count: int,
                     pretrained: Mapping[str, int] | None = None,
                     pretrained_words: int = 0) -> list[str]:
    """Padding, out-of-vocabulary, then tokens seen >= min_count times, most frequent first.

    With `pretrained` (word -> row, most frequent first) and `pretrained_words` N > 0, then the
    training words below min_count that have a pretrained vector (most frequent first), then
    those of the N most frequent pretrained words not listed yet: a word never seen in training still
    reads as its vector instead of [UNK]. max_tokens caps the training words only."""
    counts = Counter(token for text in train_texts for token in text.split())
    ranked = sorted(counts, key=lambda t: (-counts[t], t))
    kept = [t for t in ranked if counts[t] >= min_count][: max_tokens - 2]
    vocabulary = [PAD, OOV, *kept]
    if pretrained is None or pretrained_words <= 0:
        return vocabulary
    listed = set(vocabulary)
    vocabulary += [t for t in ranked if t not in listed and t in pretrained]
    listed = set(vocabulary)
    return vocabulary + [w for w in islice(pretrained, pretrained_words)
                         if w not in listed and w.strip() == w and w]


def make_vectorizer(vocabulary: list[str], sequence_length: int):
    import keras

    layer = keras.layers.TextVectorization(
        standardize=None, split="whitespace", output_mode="int",
        output_sequence_length=sequence_length)
    layer.set_vocabulary(vocabulary[2:])  # the layer adds padding and [UNK] itself
    return layer


def vectorize(texts: Sequence[str], vocabulary: list[str], sequence_length: int,
              batch_size: int = 8192) -> np.ndarray:
    """int32 matrix (rows, sequence_length), padded with 0 at the end. The texts (a list or a
    pandas Series) are read `batch_size` at a time and each chunk's ids are written into the one
    result matrix: memory beyond the result is one chunk, whatever the number of rows."""
    layer = make_vectorizer(vocabulary, sequence_length)
    out = np.zeros((len(texts), sequence_length), np.int32)
    stream = iter(texts)
    for start in range(0, len(out), batch_size):
        chunk = np.array(list(islice(stream, batch_size)), dtype=object)
        out[start:start + len(chunk)] = np.asarray(layer(chunk), dtype=np.int32)
    return out
