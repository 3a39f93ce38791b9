"""What reads a finished campaign: `context` (open it: best model, data, trials), the HTML
report, RESULTS.md (`results`), `reproduce` and the fine-tuning `stages` that follow a campaign."""
