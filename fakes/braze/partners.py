"""Technology partners and their partner API keys, one per region (braze-cohort-sync.md §5)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .errors import ControlError

REGIONS: tuple[str, ...] = ("US", "EU")
_SLUG = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclass
class Partner:
    slug: str
    keys: dict[str, str] = field(default_factory=dict)  # region -> partner API key

    def regions_of(self, key: str) -> set[str]:
        return {region for region, value in self.keys.items() if value == key}

    def to_json(self, mask: bool = True) -> dict:
        return {"slug": self.slug, "keys": {r: (mask_secret(k) if mask else k) for r, k in self.keys.items()}}


class PartnerRegistry:
    """Registered partners; a partner key identifies its partner (A1) and its regions (A2)."""

    def __init__(self) -> None:
        self._by_slug: dict[str, Partner] = {}

    def register(self, slug: object, keys: object) -> Partner:
        """Register a partner from control-API JSON (validated here, so any JSON value is accepted)."""
        if not isinstance(slug, str) or not _SLUG.match(slug):
            raise ControlError(f"partner slug must be a non-empty string of letters, digits, '_', '-', '.': {slug!r}")
        if not isinstance(keys, dict) or not keys:
            raise ControlError("partner keys must be an object like {\"US\": \"...\", \"EU\": \"...\"}")
        for region, key in keys.items():
            if region not in REGIONS:
                raise ControlError(f"unknown partner key region {region!r}; expected one of {', '.join(REGIONS)}")
            if not isinstance(key, str) or not key:
                raise ControlError(f"partner key for {region} must be a non-empty string")
            owner = self.partner_of_key(key)
            if owner is not None and owner.slug != slug:
                raise ControlError(f"partner key already belongs to partner {owner.slug!r}")
        partner = Partner(slug, dict(keys))
        self._by_slug[slug] = partner
        return partner

    def get(self, slug: str) -> Partner | None:
        return self._by_slug.get(slug)

    def require(self, slug: str) -> Partner:
        partner = self._by_slug.get(slug)
        if partner is None:
            raise ControlError(f"unknown partner {slug!r}", status=404)
        return partner

    def partner_of_key(self, key: str) -> Partner | None:
        for partner in self._by_slug.values():
            if key in partner.keys.values():
                return partner
        return None

    def slugs(self) -> list[str]:
        return sorted(self._by_slug)

    def all(self) -> list[Partner]:
        return [self._by_slug[s] for s in self.slugs()]


def mask_secret(value: str) -> str:
    """Show only enough of a secret to tell keys apart (DESIGN.md §6: secrets never leak)."""
    return value[:4] + "…" if len(value) > 8 else "…"
