"""The project registry (mixpanel-ingestion.md §1): ids, tokens, secrets, service accounts, regions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fakes.core import ConfigError

REGIONS = ("us", "eu", "in")
ID_MERGE_MODES = ("simplified", "original")
# Service-account roles, strongest first; /import needs at least `admin` (§4.2).
ROLE_RANK = {"owner": 3, "admin": 2, "analyst": 1, "consumer": 0}


@dataclass(frozen=True)
class ServiceAccount:
    username: str
    secret: str
    role: str = "admin"


@dataclass(frozen=True)
class Project:
    project_id: int
    token: str
    secret: str
    service_accounts: tuple[ServiceAccount, ...] = ()
    region: str = "us"
    id_merge: str = "simplified"
    bearer_tokens: tuple[str, ...] = ()
    us_forwarding: bool = False

    @property
    def simplified(self) -> bool:
        return self.id_merge == "simplified"

    def served_in(self, region: str) -> bool:
        """§2.1: the project's own region, plus the US host for forwarded (older) EU projects."""
        return region == self.region or (region == "us" and self.region == "eu" and self.us_forwarding)

    def describe(self) -> dict[str, Any]:
        return {
            "project_id": self.project_id,
            "token": self.token,
            "secret": self.secret,
            "service_accounts": [
                {"username": sa.username, "secret": sa.secret, "role": sa.role} for sa in self.service_accounts
            ],
            "region": self.region,
            "id_merge": self.id_merge,
            "bearer_tokens": list(self.bearer_tokens),
            "us_forwarding": self.us_forwarding,
        }


DEFAULT_PROJECT = Project(
    project_id=1,
    token="harness-token",
    secret="harness-secret",
    service_accounts=(ServiceAccount("harness-sa", "harness-sa-secret", "admin"),),
)


def _str(entry: Mapping[str, Any], key: str, default: str | None = None) -> str:
    value = entry.get(key, default)
    if not isinstance(value, str) or not value:
        raise ConfigError(f"projects[].{key} must be a non-empty string, not {value!r}")
    return value


def project_from_config(entry: Mapping[str, Any]) -> Project:
    if not isinstance(entry, Mapping):
        raise ConfigError("each projects[] entry must be an object")
    pid = entry.get("project_id")
    if isinstance(pid, str) and pid.isdigit():
        pid = int(pid)
    if not isinstance(pid, int) or isinstance(pid, bool) or pid < 0:
        raise ConfigError(f"projects[].project_id must be a non-negative integer, not {pid!r}")
    accounts = []
    for sa in entry.get("service_accounts", []) or []:
        if not isinstance(sa, Mapping):
            raise ConfigError("projects[].service_accounts[] entries must be objects")
        role = sa.get("role", "admin")
        if role not in ROLE_RANK:
            raise ConfigError(f"service account role must be one of {', '.join(ROLE_RANK)}, not {role!r}")
        accounts.append(ServiceAccount(_str(sa, "username"), _str(sa, "secret"), role))
    region = entry.get("region", "us")
    if region not in REGIONS:
        raise ConfigError(f"projects[].region must be one of us, eu, in, not {region!r}")
    id_merge = entry.get("id_merge", "simplified")
    if id_merge not in ID_MERGE_MODES:
        raise ConfigError(f"projects[].id_merge must be simplified or original, not {id_merge!r}")
    bearers = entry.get("bearer_tokens", []) or []
    if not isinstance(bearers, list) or not all(isinstance(b, str) and b for b in bearers):
        raise ConfigError("projects[].bearer_tokens must be a list of strings")
    forwarding = entry.get("us_forwarding", False)
    if not isinstance(forwarding, bool):
        raise ConfigError("projects[].us_forwarding must be true or false")
    return Project(pid, _str(entry, "token"), _str(entry, "secret"), tuple(accounts), region, id_merge,
                   tuple(bearers), forwarding)


@dataclass
class ProjectRegistry:
    """Lookups by id, token, secret, service-account username and bearer token (all O(1))."""

    projects: tuple[Project, ...]
    by_id: dict[int, Project] = field(default_factory=dict)
    by_token: dict[str, Project] = field(default_factory=dict)
    by_secret: dict[str, Project] = field(default_factory=dict)
    by_bearer: dict[str, Project] = field(default_factory=dict)
    # username -> [(project, account)]: one account may be a member of several projects.
    accounts: dict[str, list[tuple[Project, ServiceAccount]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for project in self.projects:
            indexes: tuple[tuple[dict[Any, Project], Any], ...] = (
                (self.by_id, project.project_id), (self.by_token, project.token), (self.by_secret, project.secret))
            for index, name in indexes:
                if name in index:
                    raise ConfigError(f"two projects share the same id, token or secret ({name!r})")
                index[name] = project
            for bearer in project.bearer_tokens:
                self.by_bearer[bearer] = project
            for sa in project.service_accounts:
                self.accounts.setdefault(sa.username, []).append((project, sa))

    @classmethod
    def default(cls) -> ProjectRegistry:
        return cls((DEFAULT_PROJECT,))

    @classmethod
    def from_config(cls, entries: Iterable[Mapping[str, Any]] | Any) -> ProjectRegistry:
        if not isinstance(entries, list) or not entries:
            raise ConfigError("projects must be a non-empty list of project objects")
        return cls(tuple(project_from_config(e) for e in entries))

    def describe(self) -> list[dict[str, Any]]:
        return [p.describe() for p in self.projects]
