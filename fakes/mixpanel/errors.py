"""Every documented Mixpanel ingestion error, as a named thing carrying its exact text, in one place.

mixpanel-ingestion.md §4.3, §5.2, §5.4, §5.8, §6–§9: whole-request errors are classes carrying their HTTP
status, status text and message (``CATALOGUE``); per-record rules are ``RULES``; the short texts of
`/track`, `/engage` and `/groups` are named constants (``OBJECT_ERRORS``). Texts marked † in the spec are
harness wording (the real text is unknown); they are flagged ``harness_wording = True`` here so tests and
journals never present them as upstream-exact. No other module spells one of these texts.
"""

from __future__ import annotations

from typing import Any, ClassVar

# --- texts shared by several answers ------------------------------------------------------------

# §5.9 / §6: observed short "nothing usable" text (also the V1 whole-request 400, †).
DATA_MISSING_OR_EMPTY = "data, missing or empty"
# §5.8: strict 400 envelope text (also the non-strict 2023 hybrid body, §5.9).
STRICT_VALIDATION_FAILED = "some data points in the request failed validation"

# --- whole-request errors (envelope {"code","error","status"}) ----------------------------------


class ApiError(Exception):
    """A whole-request error answered as `{"code":C,"error":E,"status":S}` (§4.3, §5.2, §5.8).

    ``message`` is the exact text; a ``{name}`` in it is filled from the constructor's keywords."""

    http_status: ClassVar[int]
    status_text: ClassVar[str]
    message: ClassVar[str] = ""
    harness_wording: ClassVar[bool] = False

    def __init__(self, message: str | None = None, **fields: Any) -> None:
        if message is None:
            message = self.message.format(**fields) if fields else self.message
        self.error = message
        super().__init__(self.error)

    @property
    def name(self) -> str:
        return type(self).__name__

    def body(self) -> dict[str, Any]:
        return {"code": self.http_status, "error": self.error, "status": self.status_text}


class InvalidCredentials(ApiError):
    """§4.3: default (documented) 401 text; `observed()` gives the case-specific 2023 texts."""

    http_status = 401
    status_text = "Unauthorized"
    message = "Invalid credentials"

    @classmethod
    def observed(cls, case: str | None) -> InvalidCredentials:
        """§4.3 `auth.error_detail = "observed"`: the text seen for `case`, else the documented one."""
        text = OBSERVED_AUTH_TEXTS.get(case) if case is not None else None
        return cls(text)


# §4.3 `auth.error_detail = "observed"`: case-specific 401 texts seen from a real server in 2023. The
# project mismatch is the text Mixpanel's own `mixpanel/sheets` tests expect since 2023-09 (an older capture
# read "Mismatch between project secret's project ID and URL project ID").
OBSERVED_AUTH_TEXTS: dict[str, str] = {
    "unknown_service_account": "Not a valid service account username",
    "not_a_project_member": "not a project member",
    "invalid_project_secret": (
        "Unauthorized, invalid project secret. See docs for more information: "
        "https://developer.mixpanel.com/reference/authentication#project-secret"
    ),
    "secret_project_mismatch": "Credentials in request did not match project_id URL parameter",
}


class PayloadTooLarge(ApiError):
    """§5.2: the template is documented; the number is the configured limit."""

    http_status = 413
    status_text = "Request Entity Too Large"
    message = "request exceeds max limit of {limit} bytes"

    def __init__(self, limit: int) -> None:
        super().__init__(limit=limit)


class BadRequest(ApiError):
    http_status = 400
    status_text = "Bad Request"


class BatchTooLarge(BadRequest):
    """§5.2 / Q2: more than `max_batch_records` records (†)."""

    message = "request exceeds max batch size of {limit} records"
    harness_wording = True

    def __init__(self, limit: int) -> None:
        super().__init__(limit=limit)


class DataMissingOrEmpty(BadRequest):
    """§5.4 V1: a malformed array, an empty body or `[]` (the string is observed, its use here †)."""

    message = DATA_MISSING_OR_EMPTY
    harness_wording = True


class UnsupportedContentEncoding(BadRequest):
    """§3 R8 (†)."""

    message = "unsupported Content-Encoding"
    harness_wording = True


class StrictValidationFailed(BadRequest):
    """§5.8: strict `/import` (and strict `/track`) with failed records; the body lists them."""

    message = STRICT_VALIDATION_FAILED

    def answer_body(self, failed_records: list[Any], imported: int) -> dict[str, Any]:
        return {"code": self.http_status, "error": self.error, "failed_records": failed_records,
                "num_records_imported": imported, "status": self.status_text}


class RateLimitExceeded(ApiError):
    """§5.8 / §11: exact 429 body, on every endpoint."""

    http_status = 429
    status_text = "Too Many Requests"
    message = "Project exceeded rate limits. Please retry the request with exponential backoff."


# --- lookup tables (§9) -------------------------------------------------------------------------


class LookupTableNotFound(ApiError):
    """§9: 404 body without `code`."""

    http_status = 404
    status_text = "Not Found"
    message = "Lookup table with id '{table_id}' was not found."

    def __init__(self, table_id: str) -> None:
        self.table_id = table_id
        super().__init__(table_id=table_id)

    def body(self) -> dict[str, Any]:
        return {"error": self.error, "status": self.status_text}


class LookupValidationFailed(BadRequest):
    """§9: a replacement CSV with bad rows; nothing is replaced."""

    message = "Some data points in the request failed validation."

    def answer_body(self, failed_records: list[dict[str, Any]]) -> dict[str, Any]:
        return {"code": self.http_status, "error": self.error, "status": self.status_text,
                "failed_records": failed_records}


# §9 per-row failure messages (the CSV ones are harness wording, †).
LOOKUP_PRIMARY_KEY_REQUIRED = "primary key is required and cannot be blank"
LOOKUP_HEADER_REQUIRED = "a header row is required"
LOOKUP_INVALID_CSV = "invalid CSV: {detail}"
LOOKUP_BODY_UNDECODABLE = "the body could not be decoded"

# --- raw event export (`GET /api/2.0/export`, exporting.py) ----------------------------------------
# Upstream: a bad request to the export API answers a non-200 status with a short text (O, 2018); Mixpanel's
# 2.0 query API, its sibling, answers `{"request": <path and query>, "error": <text>}` (O). The fake gives
# that shape; every text below is a harness default (†), none is known to be upstream-exact. A bad
# credential answers the §4.3 401 (`InvalidCredentials`), as on /import.

EXPORT_PARAMETER_REQUIRED = "{name} is a required parameter"
EXPORT_DATE_INVALID = "{name} must be a date written YYYY-MM-DD, not {value!r}"
EXPORT_DATES_REVERSED = "to_date {to_date} is before from_date {from_date}"
EXPORT_EVENT_INVALID = "event must be a JSON array of event names, such as [\"Signed Up\"]"
EXPORT_LIMIT_INVALID = "limit must be a whole number from 1 to {maximum}, not {value!r}"
EXPORT_WHERE_UNSUPPORTED = (
    "where is not supported by the harness fake (segmentation expressions are not implemented); "
    "narrow the export with from_date, to_date and event instead"
)
EXPORT_RATE_LIMITED = "export rate limit exceeded: at most {limit} queries per {period} for this project"


class ExportRequestError(BadRequest):
    """A raw-export request the fake refuses: `{"request": …, "error": …}` with the HTTP status (texts †)."""

    harness_wording = True

    def __init__(self, message: str, request: str = "", **fields: Any) -> None:
        super().__init__(message.format(**fields) if fields else message)
        self.request = request

    def body(self) -> dict[str, Any]:
        return {"request": self.request, "error": self.error}


class ExportRateLimited(ExportRequestError):
    """The documented export limits (60 queries an hour, 3 a second per project) answer 429 (D); text †."""

    http_status = 429
    status_text = RateLimitExceeded.status_text


class EventStoreFull(ApiError):
    """Harness limit `store.max_events` (not a Mixpanel behaviour): the batch would pass it; nothing of it is
    stored. 507, so a client retries later rather than dropping the batch (†)."""

    http_status = 507
    status_text = "Insufficient Storage"
    message = ("harness event store is full: {stored} of store.max_events={limit} events stored, "
               "a batch of {batch} was not stored")
    harness_wording = True


CATALOGUE: tuple[type[ApiError], ...] = (
    InvalidCredentials,
    PayloadTooLarge,
    BatchTooLarge,
    DataMissingOrEmpty,
    UnsupportedContentEncoding,
    StrictValidationFailed,
    RateLimitExceeded,
    LookupTableNotFound,
    LookupValidationFailed,
    ExportRequestError,
    ExportRateLimited,
)

# --- per-record texts (§5.4) --------------------------------------------------------------------

# §5.4 V13.
IDENTITY_EVENTS_NOT_ALLOWED = (
    "identity events are not allowed when project is using simplified identity management"
)


class Rule:
    """One §5.4 validation rule: its id, the reported `field` and `message` (may hold `{key}`)."""

    __slots__ = ("rule_id", "field", "message", "harness_wording")

    def __init__(self, rule_id: str, field: str, message: str, harness_wording: bool = False) -> None:
        self.rule_id = rule_id
        self.field = field
        self.message = message
        self.harness_wording = harness_wording

    def failure(self, index: int, insert_id: str, key: str = "") -> dict[str, Any]:
        """The strict `failed_records` entry, keys in the documented order."""
        return {
            "index": index,
            "insert_id": insert_id,
            "field": self.field.format(key=key),
            "message": self.message.format(key=key),
        }


_TIME_NOT_SECONDS = "'properties.time' is invalid: must be specified as seconds since epoch"

RULES: dict[str, Rule] = {
    r.rule_id: r
    for r in (
        Rule("V1", "", "event is not valid JSON", True),
        Rule("V2", "event", "'event' must not be missing or blank"),
        Rule("V2b", "properties", "'properties' must be an object", True),
        Rule("V3", "properties.time", "'properties.time' is invalid: must not be missing"),
        Rule("V4", "properties.time", _TIME_NOT_SECONDS),
        Rule("V5", "properties.time", _TIME_NOT_SECONDS, True),
        Rule("V6", "properties.time", "'properties.time' is invalid: must not be in the future"),
        Rule("V6track", "properties.time", "'properties.time' is invalid: must be within the last 5 days", True),
        Rule("V7", "properties.distinct_id", "'properties.distinct_id' is invalid: must not be missing"),
        Rule(
            "V8",
            "properties.distinct_id",
            "'properties.distinct_id' is invalid: must not be a disallowed placeholder value",
            True,
        ),
        Rule("V9", "properties.$insert_id", "'properties.$insert_id' is invalid: must not be missing", True),
        Rule(
            "V10",
            "properties.$insert_id",
            "'properties.$insert_id' is invalid: must be at most 36 bytes of alphanumerics or '-'",
            True,
        ),
        Rule(
            "V10placeholder",
            "properties.$insert_id",
            "'properties.$insert_id' is invalid: must not be a disallowed placeholder value",
            True,
        ),
        Rule("V11", "properties.{key}", "properties.{key} is invalid: string should be valid utf8"),
        Rule("V12size", "properties", "'properties' is invalid: event exceeds 1MB of uncompressed JSON", True),
        Rule("V12count", "properties", "'properties' is invalid: must have fewer than 255 properties", True),
        Rule(
            "V12nested",
            "properties.{key}",
            "'properties.{key}' is invalid: nested object too large or too deep",
            True,
        ),
        Rule(
            "V12eightkb",
            "properties.{key}",
            "'properties.{key}' is invalid: list or object property exceeds 8KB",
            True,
        ),
        Rule(
            "V12array",
            "properties.{key}",
            "'properties.{key}' is invalid: array must have fewer than 255 elements",
            True,
        ),
    )
}

# Non-strict /import skips rules by family (§5.4, `import.nonstrict_skip`): "V10" covers both V10
# texts and "V12" every V12 text.

# --- /track, /engage, /groups object-level texts (`<field>, missing or empty` pattern, †) ---------

EVENT_MISSING = "event, missing or empty"
TOKEN_MISSING = "token, missing or empty"
TOKEN_UNKNOWN = "token, unknown"  # only with track.unknown_token = reject (†)
DISTINCT_ID_MISSING = "distinct_id, missing or empty"  # observed 2024 for $identify without it
PROFILE_TOKEN_MISSING = "$token, missing or empty"
PROFILE_DISTINCT_ID_MISSING = "$distinct_id, missing or empty"
GROUP_KEY_MISSING = "$group_key, missing or empty"
GROUP_ID_MISSING = "$group_id, missing or empty"
OPERATION_MISSING = "operation, missing or empty"
TOO_MANY_OPERATIONS = "only one operation per update is allowed"
UPDATE_TOO_LARGE = "update exceeds 1MB of uncompressed JSON"
UPDATE_TOO_DEEP = "update values are nested too deep"
PROFILE_TOO_MANY_PROPERTIES = "profile would exceed 2000 properties"
# † texts for an operation whose value has the wrong shape (§7.2 "Invalid when") and for
# `$add`/`$append` on groups (§8).
INVALID_OPERATION = "{op}, invalid value"
OPERATION_NOT_ALLOWED = "{op}, not supported for group profiles"

OBJECT_ERRORS: tuple[str, ...] = (
    DATA_MISSING_OR_EMPTY, EVENT_MISSING, TOKEN_MISSING, TOKEN_UNKNOWN, DISTINCT_ID_MISSING, PROFILE_TOKEN_MISSING,
    PROFILE_DISTINCT_ID_MISSING, GROUP_KEY_MISSING, GROUP_ID_MISSING, OPERATION_MISSING, TOO_MANY_OPERATIONS,
    UPDATE_TOO_LARGE, UPDATE_TOO_DEEP, PROFILE_TOO_MANY_PROPERTIES, INVALID_OPERATION, OPERATION_NOT_ALLOWED,
)


def invalid_operation(op: str) -> str:
    return INVALID_OPERATION.format(op=op)


def operation_not_allowed(op: str) -> str:
    return OPERATION_NOT_ALLOWED.format(op=op)
