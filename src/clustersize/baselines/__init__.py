"""Baselines: a greedy reference planner, the seeded problem generator and test helpers."""
