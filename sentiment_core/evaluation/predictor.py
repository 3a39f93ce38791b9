"""A trained model plus everything it needs to read raw text: cleaning, vocabulary, length.

    classifier = TextClassifier(model, data.vocabulary, experiment.cleaning, 40, ["neg", "pos"])
    classifier.predict(["Great debate tonight!"])   # DataFrame: text, p_positive, label

Raw text goes through the same path as training data: cleaning -> vectorization with the stored
vocabulary -> `models.model_inputs` (the ids, plus seed 004's engineered features for a feature
family, computed from those ids; their train-only scaler is inside the model).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..data import feature_spec, make_cleaner, vectorize
from ..errors import InputError
from ..models import custom_objects, model_inputs, uses_features
from .metrics import predictions


class TextClassifier:
    def __init__(self, model, vocabulary: list[str], cleaning: list[str], sequence_length: int,
                 class_names: list[str], threshold: float = 0.5):
        self.model, self.vocabulary, self.cleaning = model, list(vocabulary), list(cleaning)
        self.sequence_length, self.class_names = int(sequence_length), list(class_names)
        self.threshold = float(threshold)
        self._clean = make_cleaner(self.cleaning)

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return self.predict_ids(vectorize([self._clean(str(t)) for t in texts], self.vocabulary,
                                          self.sequence_length))

    def model_inputs(self, ids: np.ndarray):
        """What the model reads for vectorized rows (ids, or ids and engineered features)."""
        return model_inputs(self.model, ids, len(self.vocabulary))

    def predict_ids(self, ids: np.ndarray) -> np.ndarray:
        """Probabilities for already vectorized rows (a prepared split)."""
        proba = np.asarray(self.model.predict(self.model_inputs(ids), batch_size=1024,
                                              verbose=0))
        return proba.reshape(-1) if len(self.class_names) == 2 else proba

    def predict(self, texts: list[str]) -> pd.DataFrame:
        proba = self.predict_proba(texts)
        labels = predictions(proba, self.threshold)
        frame = pd.DataFrame({"text": list(texts)})
        if proba.ndim == 1:
            frame[f"p_{self.class_names[1]}"] = proba
        else:
            for i, name in enumerate(self.class_names):
                frame[f"p_{name}"] = proba[:, i]
        frame["label"] = [self.class_names[i] for i in labels]
        return frame

    def save(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        self.model.save(directory / "model.keras")
        (directory / "text.json").write_text(json.dumps({
            "vocabulary": self.vocabulary, "cleaning": self.cleaning,
            "sequence_length": self.sequence_length, "class_names": self.class_names,
            "threshold": self.threshold,
            **({"features": feature_spec(len(self.vocabulary))}
               if uses_features(self.model) else {})}))
        return directory

    @classmethod
    def load(cls, directory: Path) -> "TextClassifier":
        import keras

        meta = json.loads((Path(directory) / "text.json").read_text())
        # safe_mode: a Lambda layer (arbitrary Python code) in the file is refused, never run
        model = keras.saving.load_model(Path(directory) / "model.keras", safe_mode=True,
                                        custom_objects=custom_objects())
        stored = meta.get("features")
        if stored and stored != feature_spec(len(meta["vocabulary"])):
            raise InputError(directory, "text.json",
                             f"the model's engineered features {stored} differ from this "
                             f"version's {feature_spec(len(meta['vocabulary']))}")
        return cls(model, meta["vocabulary"], meta["cleaning"], meta["sequence_length"],
                   meta["class_names"], meta.get("threshold", 0.5))
