"""Solving: the pipeline from problem to verified plan, its time budget, heuristics and rounding."""
