"""Two-stage plans: one set of decisions before the uncertainty is revealed, recourse per scenario (docs/risk.md)."""
