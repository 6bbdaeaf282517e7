"""The project's exception types; the CLI maps each to an exit code."""

from __future__ import annotations

from typing import Any


class ClustersizeError(Exception):
    """Base class of every error clustersize raises on purpose."""

    exit_code = 1


class InputError(ClustersizeError):
    """A problem file, catalog or override is invalid.

    The message names the file, the field path and the fix.
    """

    exit_code = 2

    def __init__(self, message: str, *, file: str | None = None, path: str | None = None,
                 fix: str | None = None) -> None:
        self.file, self.path, self.fix, self.reason = file, path, fix, message
        parts = []
        if file:
            parts.append(str(file))
        if path:
            parts.append(path)
        head = ": ".join(parts)
        text = f"{head}: {message}" if head else message
        if fix:
            text += f" (fix: {fix})"
        super().__init__(text)


class InfeasibleError(ClustersizeError):
    """No plan can reach the target under the constraints; `diagnosis` says what is short."""

    exit_code = 3

    def __init__(self, message: str, diagnosis: list[str] | None = None) -> None:
        self.diagnosis = diagnosis or []
        super().__init__(message)


class NoSolutionError(ClustersizeError):
    """The solver stopped at a limit (time or error) without any plan."""

    exit_code = 4


class VerificationError(ClustersizeError):
    """A plan failed independent verification; this is a bug in clustersize."""

    exit_code = 5

    def __init__(self, message: str, violations: list[dict[str, Any]] | None = None) -> None:
        self.violations = violations or []
        super().__init__(message)
