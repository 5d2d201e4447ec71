"""``CohortImportModel``: partners, workspaces, Data Import Keys and partner cohorts of the fake Braze.

Plain Python, no HTTP (braze-cohort-sync.md §2). ``handle`` runs one partner request through the
processing order of §4.4 and returns an ``ImportOutcome`` the wire encodes; the control operations
of §5 and §9 are methods with the same names. All state is guarded by one re-entrant lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from fakes.core.config import FakeConfig

from .auth import authenticate
from .changes import apply_changes
from .clusters import cluster_by_instance, resolve_cluster
from .cohorts import CohortBook, PartnerCohort, zero_counters
from .config import BrazeConfig, new_fake_config
from .errors import BrazeError, ControlError, RateLimited
from .keys import DataImportKey, DataImportKeyRing
from .locks import CohortLocks
from .partners import Partner, PartnerRegistry
from .ratelimit import RateDecision, SlidingWindowLimiter
from .segments import SegmentEvaluator
from .users import BrazeUserStore
from .validation import ChangeMembership, parse_change_membership, parse_declare
from .workspace import Workspace

DECLARE = "cohorts"  # POST /partners/{partner}/cohorts
CHANGE_MEMBERSHIP = "cohorts/users"  # POST /partners/{partner}/cohorts/users
ENDPOINTS = (DECLARE, CHANGE_MEMBERSHIP)


@dataclass
class ImportOutcome:
    """What one partner request did: the answer plus the journal fields of §4.4 step 8."""

    status: int
    body: Any
    endpoint: str
    partner: str
    cluster: str
    headers: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    workspace: str | None = None
    cohort_id: str | None = None
    counters: dict[str, int] | None = None
    effect: str | None = None  # /cohorts: created, renamed, unchanged, declared_held

    def journal_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {"cluster": self.cluster, "partner": self.partner, "workspace": self.workspace,
                  "endpoint": self.endpoint, "cohort_id": self.cohort_id, "error": self.error}
        if self.counters is not None:
            fields["counters"] = dict(self.counters)
        if self.effect is not None:
            fields["effect"] = self.effect
        return fields


@dataclass(frozen=True)
class RequestContext:
    """Authenticated request facts handed to the step-5 hook (shared-core fault rules)."""

    endpoint: str
    partner: str
    workspace: str
    cluster: str
    cohort_id: Any


# Step 5 hook: returns an outcome to answer instead (a fault), or None to go on.
BeforeValidation = Callable[[RequestContext], ImportOutcome | None]


class CohortImportModel:
    def __init__(self, clock, config: FakeConfig | None = None, lock: threading.RLock | None = None,
                 seed: int = 0) -> None:
        self.clock = clock
        self.config = config if config is not None else new_fake_config()
        self.lock = lock if lock is not None else threading.RLock()
        self.cohort_locks = CohortLocks()
        self._seed = seed
        self.reset()

    # --- state ------------------------------------------------------------------------------------
    def settings(self) -> BrazeConfig:
        return BrazeConfig.from_values(self.config.as_dict())

    def reset(self, seed: int | None = None) -> None:
        """Back to the default world of DESIGN.md §4 (configuration is kept)."""
        with self.lock:
            if seed is not None:
                self._seed = seed
            cfg = self.settings()
            self.partners = PartnerRegistry()
            self.keys = DataImportKeyRing(self._seed)
            self.limiter = SlidingWindowLimiter()
            self.workspaces: dict[str, Workspace] = {}
            self.default_workspace_id = cfg.default_workspace
            self.register_partner(cfg.partner_slug, {"US": cfg.partner_api_key, "EU": cfg.partner_api_key})
            self.register_partner(cfg.other_partner_slug, {"US": cfg.other_partner_key, "EU": cfg.other_partner_key})
            self.create_workspace(cfg.default_workspace, cfg.default_workspace_cluster)
            self.generate_key(cfg.default_workspace, cfg.partner_slug, secret=cfg.data_import_key)

    # --- control operations (§5, §9) ----------------------------------------------------------------
    def register_partner(self, slug: object, keys: object) -> Partner:
        with self.lock:
            return self.partners.register(slug, keys)

    def create_workspace(self, workspace_id: object, cluster: object = "US-01") -> Workspace:
        with self.lock:
            if not isinstance(workspace_id, str) or not workspace_id:
                raise ControlError("workspace id must be a non-empty string")
            if workspace_id in self.workspaces:
                raise ControlError(f"workspace {workspace_id!r} already exists", status=409)
            found = cluster_by_instance(cluster) if isinstance(cluster, str) else None
            if found is None:
                raise ControlError(f"unknown Braze instance {cluster!r}")
            cohorts = CohortBook()  # hears about deleted / merged profiles to close their intervals
            users = BrazeUserStore(self.clock, listener=cohorts, lock=self.lock,
                                   identify_conflict=lambda: self.settings().identify_conflict)
            workspace = Workspace(workspace_id, found, users, cohorts)
            self.workspaces[workspace_id] = workspace
            return workspace

    def workspace(self, workspace_id: str | None = None) -> Workspace:
        with self.lock:
            workspace = self.workspaces.get(workspace_id or self.default_workspace_id)
            if workspace is None:
                raise ControlError(f"unknown workspace {workspace_id!r}", status=404)
            return workspace

    def users(self, workspace_id: str | None = None) -> BrazeUserStore:
        return self.workspace(workspace_id).users

    def generate_key(self, workspace_id: str | None = None, partner: str | None = None,
                     secret: str | None = None) -> str:
        """A new active Data Import Key on the partner's tile; enables the partner unless disabled (§5)."""
        with self.lock:
            cfg = self.settings()
            workspace = self.workspace(workspace_id)
            slug = partner or cfg.partner_slug
            self.partners.require(slug)
            secret = secret if secret is not None else self.keys.new_secret(cfg.key_format)
            self.keys.add(secret, workspace.id, slug, self.clock.now(), cfg.new_key_revokes_old)
            workspace.enabled.setdefault(slug, True)
            return secret

    def invalidate_key(self, secret: str) -> DataImportKey:
        with self.lock:
            return self.keys.invalidate(secret, self.clock.now())

    def set_partner_enabled(self, workspace_id: str | None, partner: str, enabled: object) -> None:
        with self.lock:
            if not isinstance(enabled, bool):
                raise ControlError("enabled must be true or false")
            self.partners.require(partner)
            self.workspace(workspace_id).enabled[partner] = enabled

    def secrets(self) -> list[str]:
        """Every credential the fake knows, for journal masking."""
        with self.lock:
            values = [k for p in self.partners.all() for k in p.keys.values()]
            return values + [k.secret for k in self.keys.all()]

    # --- read side (§9) ---------------------------------------------------------------------------
    def cohort(self, cohort_id: str, workspace_id: str | None = None, partner: str | None = None) -> PartnerCohort:
        with self.lock:
            slug = partner or self.settings().partner_slug
            cohort = self.workspace(workspace_id).cohorts.get(slug, cohort_id)
            if cohort is None:
                raise ControlError(f"unknown cohort {cohort_id!r} of partner {slug!r}", status=404)
            return cohort

    def list_cohorts(self, workspace_id: str | None = None, partner: str | None = None, at: float | None = None,
                     include_held: bool = True) -> list[dict]:
        with self.lock:
            t = self.clock.now() if at is None else at
            cohorts = self.workspace(workspace_id).cohorts.of_partner(partner)
            rows = [c.to_json(t) for c in cohorts if include_held or c.declared_by(t)]
            return sorted(rows, key=lambda r: (r["partner"], r["name"] or "", r["cohort_id"]))

    def members(self, cohort_id: str, workspace_id: str | None = None, partner: str | None = None,
                at: float | None = None) -> list[dict]:
        with self.lock:
            t = self.clock.now() if at is None else at
            cohort = self.cohort(cohort_id, workspace_id, partner)
            users = self.workspace(workspace_id).users
            return [member_json(users.get(bid), cohort, t) for bid in sorted(cohort.membership.members_at(t))]

    def segments(self, workspace_id: str | None = None) -> SegmentEvaluator:
        workspace = self.workspace(workspace_id)
        return SegmentEvaluator(workspace, default_partner=self.settings().partner_slug,
                                partners=self.partners.slugs(), lock=self.lock)

    def evaluate_segment(self, filter_tree: Any, workspace_id: str | None = None, at: float | None = None) -> dict:
        with self.lock:
            t = self.clock.now() if at is None else at
            return self.segments(workspace_id).evaluate_json(filter_tree, t)

    def filter_options(self, workspace_id: str | None = None, partner: str | None = None,
                       at: float | None = None) -> list[dict]:
        with self.lock:
            t = self.clock.now() if at is None else at
            return self.segments(workspace_id).options(partner or self.settings().partner_slug, t)

    # --- the partner endpoints (§4.4) ---------------------------------------------------------------
    def handle(self, endpoint: str, partner_slug: str, body: Any, *, host: str | None = None,
               cluster_header: str | None = None, before_validation: BeforeValidation | None = None,
               cfg: BrazeConfig | None = None) -> ImportOutcome:
        """One partner request, §4.4 steps 1-8; ``cfg`` is the request's configuration snapshot."""
        cfg = cfg if cfg is not None else self.settings()
        if not isinstance(body, dict):
            body = {}  # §4.3: a body that is not a JSON object reads as {}
        cluster = resolve_cluster(host, cluster_header, cfg.default_cluster)
        outcome = ImportOutcome(0, None, endpoint, partner_slug, cluster.instance)
        rate: RateDecision | None = None
        try:
            with self.lock:
                workspace, key = authenticate(body, partner_slug, cluster, cfg, self.partners, self.keys,
                                              self.workspaces)  # step 2
                outcome.workspace = workspace.id
                rate = self._count_request(key, workspace, cfg)  # step 3
            cohort_id = body.get("cohort_id")
            lock_key = (workspace.id, partner_slug, cohort_id) if isinstance(cohort_id, str) else None
            outcome.cohort_id = cohort_id if isinstance(cohort_id, str) else None
            with self.cohort_locks.hold(lock_key, cfg.detect_concurrent and lock_key is not None):  # step 4
                if before_validation is not None:  # step 5
                    forced = before_validation(RequestContext(endpoint, partner_slug, workspace.id,
                                                              cluster.instance, cohort_id))
                    if forced is not None:
                        forced.workspace, forced.cohort_id = workspace.id, outcome.cohort_id
                        return forced
                with self.lock:  # steps 6-7
                    if endpoint == DECLARE:
                        outcome.effect = self._declare(workspace, partner_slug, body, cfg)
                    else:
                        outcome.counters = self._change_membership(workspace, partner_slug, body, cfg)
            outcome.status, outcome.body = cfg.success_status, dict(cfg.success_body)
        except BrazeError as error:
            outcome.status, outcome.body, outcome.error = error.status, error.body(), error.name
            if isinstance(error, _RateLimitedWith):
                rate = error.decision
        if rate is not None and (cfg.rate_limit_headers == "always"
                                 or (cfg.rate_limit_headers == "on_429" and outcome.status == 429)):
            outcome.headers.update(rate.headers())
        return outcome

    def declare_cohort(self, body: dict, partner: str | None = None, **where: Any) -> ImportOutcome:
        """Python shortcut for ``POST /partners/{partner}/cohorts`` (same rules, no HTTP)."""
        return self.handle(DECLARE, partner or self.settings().partner_slug, body, **where)

    def change_membership(self, body: dict, partner: str | None = None, **where: Any) -> ImportOutcome:
        """Python shortcut for ``POST /partners/{partner}/cohorts/users``."""
        return self.handle(CHANGE_MEMBERSHIP, partner or self.settings().partner_slug, body, **where)

    # --- steps ----------------------------------------------------------------------------------------
    def _count_request(self, partner_key: str, workspace: Workspace, cfg: BrazeConfig) -> RateDecision:
        scope = {"partner_key": "key:" + partner_key, "workspace": "ws:" + workspace.id}.get(cfg.rate_limit_scope, "*")
        decision = self.limiter.hit(scope, cfg.rate_limit_per_hour, self.clock.now())
        if not decision.allowed:
            raise _RateLimitedWith(decision)
        return decision

    def _declare(self, workspace: Workspace, slug: str, body: dict, cfg: BrazeConfig) -> str:
        request = parse_declare(body)
        now = self.clock.now()
        cohort = workspace.cohorts.get_or_create(slug, request.cohort_id, now)
        return cohort.declare(request.name, request.created_at, request.created_at_epoch, now,
                              overwrite_created_at=cfg.created_at_on_redeclare == "overwrite")

    def _change_membership(self, workspace: Workspace, slug: str, body: dict, cfg: BrazeConfig) -> dict[str, int]:
        request: ChangeMembership = parse_change_membership(body, cfg)
        now = self.clock.now()
        cohort = workspace.cohorts.get(slug, request.cohort_id)
        if cohort is None or not cohort.declared:
            policy = cfg.undeclared_cohort_policy
            if policy == "discard":
                return {**zero_counters(), "discarded": request.id_count}
            if cohort is None and request.id_count == 0:
                return zero_counters()  # an empty change list creates nothing (EC-17)
            cohort = workspace.cohorts.get_or_create(slug, request.cohort_id, now)
            if policy == "autoname":
                stamp = datetime.fromtimestamp(now, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
                cohort.declare(request.cohort_id, stamp, float(int(now)), now, overwrite_created_at=False)
        return apply_changes(cohort, request, workspace.users, cfg, now)


class _RateLimitedWith(RateLimited):
    """429 that remembers the window it hit, for the X-RateLimit-* headers."""

    def __init__(self, decision: RateDecision) -> None:
        super().__init__()
        self.decision = decision

    @property
    def name(self) -> str:
        return RateLimited.__name__


def member_json(profile, cohort: PartnerCohort, t: float) -> dict:
    return {
        **profile.member_json(t),
        "intervals": [i.to_json() for i in cohort.membership.intervals(profile.braze_id)],
    }
