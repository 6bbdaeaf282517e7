"""Reports: the terminal summary of a plan and the catalog views."""
