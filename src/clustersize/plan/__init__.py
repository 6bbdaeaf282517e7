"""The plan: typed result, tables in user units, writers, and the independent verifier."""

from .plan import SCHEMA_VERSION, Plan
from .verify import verify
from .writers import write_plan

__all__ = ["SCHEMA_VERSION", "Plan", "verify", "write_plan"]
