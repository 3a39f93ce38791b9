"""Where a campaign's state lives: the store folder (`paths`), the per-name lock (`lock`), and the
two adapters, `search` (the only Ax importer) and `tracking` (the only MLflow importer).

Modules here import nothing else of `campaign`; import them by module (the adapters are heavy)."""
