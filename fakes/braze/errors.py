"""Every answer the fake Braze partner cohort import gives other than success, in one place.

braze-cohort-sync.md §4.10: each documented error is a named class carrying its exact status and
message. The body shape is always ``{"message": "<text>"}`` (Q-04). Harness-only answers (404, 405,
413) live here too so no text is ever rebuilt inline.
"""

from __future__ import annotations

from typing import Any, ClassVar

from fakes.core.errors import ControlError as _CoreControlError


class BrazeError(Exception):
    """A documented error answer. Subclasses fix ``status`` and ``template``."""

    status: ClassVar[int] = 400
    template: ClassVar[str] = ""

    def __init__(self, **fields: str) -> None:
        self.message = self.template.format(**fields) if fields else self.template
        super().__init__(self.message)

    @property
    def name(self) -> str:
        return type(self).__name__

    def body(self) -> dict[str, Any]:
        return {"message": self.message}


# --- 400: body validation (§4.6, §4.8) -------------------------------------------------------
class InvalidCohortId(BrazeError):
    status = 400
    template = "cohort_id must be a valid string"


class InvalidCohortChanges(BrazeError):
    status = 400
    template = (
        "cohort_changes must be an array of objects each with key user_ids and/or device_ids "
        "mapping to an array of strings, or an aliases object"
    )


class TooManyIds(BrazeError):
    status = 400
    template = "Only 1,000 user_ids, device_ids, and aliases are allowed per request"


class InvalidName(BrazeError):
    status = 400
    template = "name must be a non-empty string"


class InvalidCreatedAt(BrazeError):
    status = 400
    template = "created_at must be a valid time as an ISO-8601 string"


# --- 401: authentication (§4.5) ---------------------------------------------------------------
class InvalidPartnerApiKey(BrazeError):
    status = 401
    template = "Invalid Partner API key"


class InvalidClientSecret(BrazeError):
    status = 401
    template = "Invalid client secret"


class PartnerNotEnabled(BrazeError):
    status = 401
    template = "Partner not enabled for client with client secret: {client_secret}"


class UnauthorizedAccess(BrazeError):
    status = 401
    template = "Unauthorized access"


# --- 423 / 429 (§4.11, §4.12) -----------------------------------------------------------------
class ResourceLocked(BrazeError):
    status = 423
    template = "Resource locked"


class RateLimited(BrazeError):
    status = 429
    template = "Rate Limited"


# --- harness-only answers (§4.2; body size limit is a harness guard) --------------------------
class NotFound(BrazeError):
    status = 404
    template = "Not Found"


class MethodNotAllowed(BrazeError):
    status = 405
    template = "Method Not Allowed"


class PayloadTooLarge(BrazeError):
    status = 413
    template = "Request body too large"


CATALOGUE: tuple[type[BrazeError], ...] = (
    InvalidCohortId,
    InvalidCohortChanges,
    TooManyIds,
    InvalidName,
    InvalidCreatedAt,
    InvalidPartnerApiKey,
    InvalidClientSecret,
    PartnerNotEnabled,
    UnauthorizedAccess,
    ResourceLocked,
    RateLimited,
    NotFound,
    MethodNotAllowed,
    PayloadTooLarge,
)

# A bad call to the harness control surface (never sent on the Braze surface): the shared core's.
ControlError = _CoreControlError
