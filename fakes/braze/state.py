"""``BrazeState``: the shared-core state of the fake Braze, holding one ``CohortImportModel``."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from fakes.core.clock import SimulatedClock
from fakes.core.state import FakeState

from .config import SETTINGS
from .errors import RateLimited
from .model import CohortImportModel
from .persistence import BrazeChanges, dump_world, load_world

# Fault stages (§4.4 step 5; "before_auth" fires before step 2).
STAGE_BEFORE_AUTH = "before_auth"
STAGE_BEFORE_VALIDATION = "after_auth"


class BrazeState(FakeState):
    service = "braze"
    settings = SETTINGS
    config_namespace = "braze"  # `max_ids_per_request` for `braze.max_ids_per_request`
    # Attributes fault rules may match on besides path/method/host/user_agent (§4.12).
    fault_match_fields = ("endpoint", "partner", "workspace", "cohort_id", "cluster")
    fault_stages = (STAGE_BEFORE_VALIDATION, STAGE_BEFORE_AUTH)
    secret_fields = ("partner_api_key", "client_secret", "key", "secret")

    def __init__(self, config: Mapping[str, Any] | None = None, *, clock: SimulatedClock | None = None,
                 seed: int | str = 0) -> None:
        super().__init__(config, clock=clock, seed=seed)
        self.model = CohortImportModel(self.clock, self.config, self.lock, seed=_int_seed(seed))
        self.changes = BrazeChanges(self.model)

    def body_limit(self, path: str, content_encoding: str | None) -> int | None:
        """`braze.max_body_bytes` on the partner endpoints (§4.10's 413)."""
        if path.startswith("/partners/"):
            return int(self.config["braze.max_body_bytes"])
        return None

    def reset_data(self) -> None:
        # Keys of the default world (braze.partner_slug, braze.partner_api_key, ...) take effect here.
        self.model.reset(seed=_int_seed(self.seed))

    def snapshot_data(self) -> Any:
        return dump_world(self.model)

    def restore_data(self, data: Any) -> None:
        load_world(self.model, data)

    def secret_values(self) -> Iterable[str]:
        model = getattr(self, "model", None)
        return model.secrets() if model is not None else ()

    def rate_limit_fault_response(self):
        return 429, {"Content-Type": "application/json"}, json.dumps(RateLimited().body(), separators=(",", ":"))


def _int_seed(seed: int | str) -> int:
    if isinstance(seed, int):
        return seed
    return sum((i + 1) * ord(ch) for i, ch in enumerate(str(seed)))
