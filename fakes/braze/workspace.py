"""A Braze workspace: its cluster, enabled partners, user store and partner cohorts."""

from __future__ import annotations

from dataclasses import dataclass, field

from .clusters import Cluster
from .cohorts import CohortBook
from .users import BrazeUserStore


@dataclass
class Workspace:
    id: str
    cluster: Cluster
    users: BrazeUserStore
    cohorts: CohortBook = field(default_factory=CohortBook)
    # Partner integration enabled per partner slug (§5): set true when a key is first generated.
    enabled: dict[str, bool] = field(default_factory=dict)

    def partner_enabled(self, slug: str) -> bool:
        return self.enabled.get(slug, False)

    def to_json(self) -> dict:
        return {
            "workspace": self.id,
            "cluster": self.cluster.instance,
            "rest_endpoint": f"https://{self.cluster.host}",
            "partners": dict(sorted(self.enabled.items())),
            "users": len(self.users.profiles()),
            "cohorts": len(self.cohorts.all()),
        }
