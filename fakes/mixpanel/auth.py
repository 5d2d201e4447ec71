"""`/import` authentication (mixpanel-ingestion.md §4): header parsing (R12) and credential
resolution in the fixed order of §4.2. Plain Python: it raises `InvalidCredentials`."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from .errors import InvalidCredentials
from .projects import ROLE_RANK, Project, ProjectRegistry


@dataclass(frozen=True)
class Credential:
    """What an `Authorization` header carries."""

    scheme: str  # "basic" | "bearer" | "" (none or unparseable)
    user: str = ""
    password: str = ""
    token: str = ""


def parse_authorization(header: str | None) -> Credential:
    """R12: case-insensitive scheme, trimmed whitespace. Basic: base64(user:secret), or (§4.1,
    service-account page) the raw `user:secret` when base64 fails or yields no `:`."""
    if not header or not header.strip():
        return Credential("")
    scheme, _, value = header.strip().partition(" ")
    scheme = scheme.lower()
    value = value.strip()
    if scheme == "bearer":
        return Credential("bearer", token=value) if value else Credential("")
    if scheme != "basic" or not value:
        return Credential("")
    decoded: str | None
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        decoded = None
    if decoded is None or ":" not in decoded:
        decoded = value
    if ":" not in decoded:
        return Credential("")  # §4.2 step 4: no `:` separator
    user, _, password = decoded.partition(":")
    return Credential("basic", user=user, password=password)


@dataclass(frozen=True)
class AuthOutcome:
    project: Project
    method: str  # "service_account" | "secret" | "token" | "bearer"
    principal: str  # masked-safe: the service-account username or the method name


class ImportAuthenticator:
    """§4.2 resolution. `observed` switches 401 texts to the §4.3 case-specific ones."""

    def __init__(self, registry: ProjectRegistry, *, observed: bool = False,
                 secret_retired: bool = False) -> None:
        self.registry = registry
        self.observed = observed
        self.secret_retired = secret_retired

    def _fail(self, case: str | None = None) -> InvalidCredentials:
        return InvalidCredentials.observed(case) if self.observed else InvalidCredentials()

    def authenticate(self, credential: Credential, project_id: str | None) -> AuthOutcome:
        pid = project_id.strip() if project_id is not None else None
        pid_num = int(pid) if pid and pid.isdigit() else None
        if credential.scheme == "bearer":
            project = self.registry.by_bearer.get(credential.token)
            if project is None or (pid is not None and pid_num != project.project_id):
                raise self._fail()
            return AuthOutcome(project, "bearer", "bearer")
        if credential.scheme != "basic" or not credential.user:
            raise self._fail()
        if credential.password:
            return self._service_account(credential, pid_num)
        return self._secret_or_token(credential.user, pid, pid_num)

    def _service_account(self, credential: Credential, pid_num: int | None) -> AuthOutcome:
        memberships = self.registry.accounts.get(credential.user)
        if not memberships:
            raise self._fail("unknown_service_account")
        if pid_num is None:  # project_id missing or not digits
            raise self._fail()
        for project, account in memberships:
            if project.project_id == pid_num:
                if account.secret != credential.password:
                    raise self._fail()
                if ROLE_RANK[account.role] < ROLE_RANK["admin"]:
                    raise self._fail()  # Q13: 401, never 403 on /import
                return AuthOutcome(project, "service_account", account.username)
        if any(account.secret == credential.password for _, account in memberships):
            raise self._fail("not_a_project_member")
        raise self._fail()

    def _secret_or_token(self, name: str, pid: str | None, pid_num: int | None) -> AuthOutcome:
        project = self.registry.by_secret.get(name)
        if project is not None:
            if pid is not None and pid_num != project.project_id:
                raise self._fail("secret_project_mismatch")
            if self.secret_retired:
                raise self._fail("invalid_project_secret")
            return AuthOutcome(project, "secret", "secret")
        project = self.registry.by_token.get(name)
        if project is not None:
            if pid is not None and pid_num != project.project_id:  # Q11
                raise self._fail()
            return AuthOutcome(project, "token", "token")
        raise self._fail("invalid_project_secret")
