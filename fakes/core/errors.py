"""Errors of the control API (`/_harness`): always JSON, always a clear message."""

from __future__ import annotations

from typing import Any


class ControlError(Exception):
    """A bad control request: answered as `{"error": message, ...details}` with `status` (default 400)."""

    def __init__(self, message: str, status: int = 400, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.details = details

    def body(self) -> dict[str, Any]:
        return {"error": self.message, **self.details}
