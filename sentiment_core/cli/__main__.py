"""`python -m sentiment_core.cli ...`: the same as the `sentiment-hpo` script."""

from . import main

main()
