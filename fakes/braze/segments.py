"""``SegmentEvaluator``: Braze's "<Partner> Cohorts" segment filter and friends (braze-cohort-sync.md §7).

A filter tree is parsed into small node objects, each with one method ``match(ctx) -> set[braze_id]``,
then evaluated at a simulated time *t* over the universe of profiles existing at *t*. Two spellings
are accepted and may be mixed:

- DESIGN.md §4 short form: ``{"mixpanel_cohorts": {"includes": "<id>"}}`` (or ``"excludes"``; an
  ``{"name": "<cohort name>"}`` object in place of the id), ``{"and": [...]}``, ``{"or": [...]}``,
  ``{"not": f}``, ``{"is_identified": true}``, ``{"external_id_in": [...]}``, ``{"braze_id_in": [...]}``,
  ``{"attribute": {"name": "plan", "equals": "gold"}}``; any ``<slug>_cohorts`` of a registered partner.
- Spec §7 long form: ``{"filter": "mixpanel_cohorts", "op": "includes", "cohort_id": "..."}`` (or
  ``cohort_name``), ``{"filter": "partner_cohorts", "partner": "...", ...}``,
  ``{"filter": "is_identified", "value": true}``, ``{"filter": "external_id_in", "values": [...]}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from .cohorts import PartnerCohort
from .errors import ControlError
from .workspace import Workspace

COHORT_OPS = ("includes", "excludes")
MAX_DEPTH = 64  # nesting deeper than any real segment; keeps hostile trees from exhausting the stack
_MISSING = object()


class SegmentFilterError(ControlError):
    """A filter tree that cannot be evaluated; the message names the place in the tree."""


@dataclass(frozen=True)
class EvaluationContext:
    workspace: Workspace
    t: float
    universe: frozenset[str]


class FilterNode(Protocol):
    def match(self, ctx: EvaluationContext) -> set[str]: ...


@dataclass(frozen=True)
class CohortFilter:
    """``includes X`` at t: profiles with an interval of X containing t; ``excludes``: the rest of the universe."""

    partner: str
    op: str
    cohort_id: str | None = None
    cohort_name: str | None = None

    def match(self, ctx: EvaluationContext) -> set[str]:
        cohort = self._cohort(ctx)
        members: set[str] = set()
        if cohort is not None and cohort.declared_by(ctx.t):  # unknown or held cohorts match nobody
            members = cohort.membership.members_at(ctx.t) & ctx.universe
        return members if self.op == "includes" else set(ctx.universe) - members

    def _cohort(self, ctx: EvaluationContext) -> PartnerCohort | None:
        if self.cohort_id is not None:
            return ctx.workspace.cohorts.get(self.partner, self.cohort_id)
        named = [c for c in ctx.workspace.cohorts.of_partner(self.partner)
                 if c.declared_by(ctx.t) and c.name_at(ctx.t) == self.cohort_name]
        if len(named) == 1:
            return named[0]
        if named:
            ids = ", ".join(sorted(c.cohort_id for c in named))
            raise SegmentFilterError(f"cohort name {self.cohort_name!r} is ambiguous: cohort ids {ids}")
        known = sorted(n for n in (c.name_at(ctx.t) for c in ctx.workspace.cohorts.of_partner(self.partner)
                                   if c.declared_by(ctx.t)) if n)
        raise SegmentFilterError(f"no {self.partner} cohort is named {self.cohort_name!r}; declared names: "
                                 + (", ".join(repr(n) for n in known) or "none"))


@dataclass(frozen=True)
class IsIdentified:
    value: bool

    def match(self, ctx: EvaluationContext) -> set[str]:
        users = ctx.workspace.users
        return {b for b in ctx.universe if users.get(b).identified_by(ctx.t) == self.value}


@dataclass(frozen=True)
class ExternalIdIn:
    values: frozenset[str]

    def match(self, ctx: EvaluationContext) -> set[str]:
        users = ctx.workspace.users
        return {b for b in ctx.universe
                if users.get(b).identified_by(ctx.t) and users.get(b).external_id in self.values}


@dataclass(frozen=True)
class BrazeIdIn:
    values: frozenset[str]

    def match(self, ctx: EvaluationContext) -> set[str]:
        return set(ctx.universe & self.values)


@dataclass(frozen=True)
class AttributeEquals:
    """Custom attribute equality on the profile's current attributes (attributes keep no history)."""

    name: str
    value: Any

    def match(self, ctx: EvaluationContext) -> set[str]:
        users = ctx.workspace.users
        return {b for b in ctx.universe if users.get(b).attributes.get(self.name, _MISSING) == self.value}


@dataclass(frozen=True)
class AllOf:
    children: tuple[FilterNode, ...]

    def match(self, ctx: EvaluationContext) -> set[str]:
        result = set(ctx.universe)
        for child in self.children:
            result &= child.match(ctx)
        return result


@dataclass(frozen=True)
class AnyOf:
    children: tuple[FilterNode, ...]

    def match(self, ctx: EvaluationContext) -> set[str]:
        result: set[str] = set()
        for child in self.children:
            result |= child.match(ctx)
        return result


@dataclass(frozen=True)
class NoneOf:
    child: FilterNode

    def match(self, ctx: EvaluationContext) -> set[str]:
        return set(ctx.universe) - self.child.match(ctx)


class FilterParser:
    """JSON filter tree → nodes; errors name the path (``filter.and[1].not``)."""

    def __init__(self, partners: list[str], default_partner: str) -> None:
        self.partners = partners
        self.default_partner = default_partner

    def parse(self, tree: Any, path: str = "filter") -> FilterNode:
        if path.count(".") + path.count("[") > MAX_DEPTH:
            raise SegmentFilterError(f"{path[:80]}…: filters nest at most {MAX_DEPTH} levels deep")
        if not isinstance(tree, dict) or not tree:
            raise SegmentFilterError(f"{path}: a filter must be a non-empty JSON object")
        if "filter" in tree:
            return self._long_form(tree, path)
        if len(tree) != 1:
            raise SegmentFilterError(f"{path}: one filter per object, got keys {', '.join(sorted(map(str, tree)))}")
        (key, value), = tree.items()
        if key in ("and", "or"):
            if not isinstance(value, list) or not value:
                raise SegmentFilterError(f"{path}.{key}: must be a non-empty array of filters")
            children = tuple(self.parse(child, f"{path}.{key}[{i}]") for i, child in enumerate(value))
            return AllOf(children) if key == "and" else AnyOf(children)
        if key == "not":
            return NoneOf(self.parse(value, f"{path}.not"))
        if key == "is_identified":
            return IsIdentified(_bool(value, f"{path}.is_identified"))
        if key == "external_id_in":
            return ExternalIdIn(_string_set(value, f"{path}.external_id_in"))
        if key == "braze_id_in":
            return BrazeIdIn(_string_set(value, f"{path}.braze_id_in"))
        if key == "attribute":
            if not isinstance(value, dict) or not isinstance(value.get("name"), str) or "equals" not in value:
                raise SegmentFilterError(f"{path}.attribute: expected {{\"name\": ..., \"equals\": ...}}")
            return AttributeEquals(value["name"], value["equals"])
        if key.endswith("_cohorts"):
            return self._short_cohort(key[: -len("_cohorts")], value, f"{path}.{key}")
        raise SegmentFilterError(f"{path}: unknown filter {key!r}")

    def _short_cohort(self, slug: str, value: Any, path: str) -> CohortFilter:
        partner = self._partner(slug, path)
        if not isinstance(value, dict) or len(value) != 1 or next(iter(value)) not in COHORT_OPS:
            raise SegmentFilterError(f"{path}: expected {{\"includes\": <cohort_id>}} or {{\"excludes\": <cohort_id>}}")
        (op, target), = value.items()
        if isinstance(target, dict) and set(target) == {"name"} and isinstance(target["name"], str):
            return CohortFilter(partner, op, cohort_name=target["name"])
        if not isinstance(target, str) or not target:
            raise SegmentFilterError(f"{path}.{op}: a cohort id string or {{\"name\": <cohort name>}}")
        return CohortFilter(partner, op, cohort_id=target)

    def _long_form(self, tree: dict, path: str) -> FilterNode:
        kind = tree["filter"]
        if kind in ("is_identified", "external_id_in", "braze_id_in", "attribute"):
            if kind == "attribute":
                return self.parse({"attribute": {k: v for k, v in tree.items() if k != "filter"}}, path)
            value = tree.get("value", tree.get("values"))
            return self.parse({kind: value}, path)
        if not isinstance(kind, str) or not kind.endswith("_cohorts"):
            raise SegmentFilterError(f"{path}: unknown filter {kind!r}")
        slug = tree.get("partner") if kind == "partner_cohorts" else kind[: -len("_cohorts")]
        partner = self._partner(slug, path)
        op = tree.get("op")
        if op not in COHORT_OPS:
            raise SegmentFilterError(f"{path}.op: must be 'includes' or 'excludes'")
        cohort_id, name = tree.get("cohort_id"), tree.get("cohort_name")
        if (cohort_id is None) == (name is None):
            raise SegmentFilterError(f"{path}: give exactly one of cohort_id and cohort_name")
        target = cohort_id if cohort_id is not None else name
        if not isinstance(target, str) or not target:
            raise SegmentFilterError(f"{path}: cohort_id / cohort_name must be a non-empty string")
        return CohortFilter(partner, op, cohort_id=cohort_id, cohort_name=name)

    def _partner(self, slug: Any, path: str) -> str:
        if slug == "partner" or slug is None:
            slug = self.default_partner
        if slug not in self.partners:
            raise SegmentFilterError(f"{path}: unknown partner {slug!r}; registered: {', '.join(self.partners)}")
        return slug


class SegmentEvaluator:
    """Evaluates filter trees on one workspace at any simulated time; read-only."""

    def __init__(self, workspace: Workspace, default_partner: str, partners: list[str], lock=None) -> None:
        self.workspace = workspace
        self.parser = FilterParser(partners, default_partner)
        self._lock = lock

    def universe(self, t: float) -> frozenset[str]:
        """Profiles created at or before t and not deleted at or before t, identified or not."""
        return frozenset(p.braze_id for p in self.workspace.users.profiles(include_deleted=True) if p.exists_at(t))

    def evaluate(self, tree: Any, t: float) -> set[str]:
        node = self.parser.parse(tree)
        return node.match(EvaluationContext(self.workspace, t, self.universe(t)))

    def evaluate_json(self, tree: Any, t: float) -> dict:
        members = sorted(self.evaluate(tree, t))
        users = self.workspace.users
        rows = []
        for braze_id in members:
            profile = users.get(braze_id)
            assert profile is not None  # members come from the universe: stored profiles, deleted ones too
            rows.append(profile.member_json(t))
        return {"count": len(rows), "members": rows, "at": t}

    def options(self, partner: str, t: float) -> list[dict]:
        """The filter's option list (§7): declared cohorts as of t, by name then id; empty if disabled."""
        if not self.workspace.partner_enabled(partner):
            return []
        rows = [{"cohort_id": c.cohort_id, "name": c.name_at(t)}
                for c in self.workspace.cohorts.of_partner(partner) if c.declared_by(t)]
        return sorted(rows, key=lambda r: (r["name"], r["cohort_id"]))


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise SegmentFilterError(f"{path}: must be true or false")
    return value


def _string_set(value: Any, path: str) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SegmentFilterError(f"{path}: must be an array of strings")
    return frozenset(value)
