"""``CohortDefinitionError``: the one error a bad cohort definition raises, naming where it is wrong."""

from __future__ import annotations


class CohortDefinitionError(ValueError):
    """A cohort definition that cannot be parsed.

    ``path`` is the place of the bad key in the definition (``and[1].did_event.min_count``; empty for the
    root) and the message starts with it, so one line tells a user what to fix.
    """

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path or '<definition>'}: {problem}")
