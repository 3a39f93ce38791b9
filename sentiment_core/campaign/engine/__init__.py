"""What runs a campaign: `lifecycle` (open or resume, run, end states), `scheduler` (ask,
prefetch, start, events), `recorder` (the only writer, in the order `reconcile` repairs), the
campaign `record` handed to each, `scoring` (validation details, baselines, the test split
scored once), and `provenance`, `resume_check`, `seed_table`, `background`, `faults`."""
