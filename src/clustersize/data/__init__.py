"""Model data: the validated problem in internal units, with every pruned option and its reason."""
