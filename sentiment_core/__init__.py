"""sentiment-hpo: hyperparameter-optimization campaigns for neural sentiment models."""

__version__ = "0.1.0"
