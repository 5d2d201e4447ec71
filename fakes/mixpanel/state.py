"""`MixpanelState`: the shared-core state of the fake Mixpanel, holding one `IngestionModel`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fakes.core import FakeState, SimulatedClock

from .answers import dumps
from .config import SETTINGS
from .errors import RateLimitExceeded
from .lookup_tables import MAX_BODY_BYTES as LOOKUP_MAX_BODY_BYTES
from .model import ENDPOINTS, LOOKUP_TABLES, IngestionModel
from .persistence import MixpanelChanges
from .regions import PATH_PREFIXES as REGION_PREFIXES


class MixpanelState(FakeState):
    service = "mixpanel"
    settings = SETTINGS
    # Attributes fault rules may match on besides path/method/host/user_agent (§13).
    fault_match_fields = ("project_id", "region", "endpoint")
    secret_fields = ("secret", "api_secret", "api_key", "password", "bearer_tokens")

    def __init__(self, config: Mapping[str, Any] | None = None, *, clock: SimulatedClock | None = None,
                 seed: int | str = 0) -> None:
        super().__init__(config, clock=clock, seed=seed)
        self.model = IngestionModel(self.clock, self.config, self.lock, seed=self.seed)
        self.changes = MixpanelChanges(self.model)

    def body_limit(self, path: str, content_encoding: str | None) -> int | None:
        """§5.2 / §9: the ingestion endpoints' `import.max_body_bytes`, the lookup tables' 100 MB."""
        parts = [p for p in path.split("?", 1)[0].split("/") if p]
        if parts and parts[0] in REGION_PREFIXES:
            parts = parts[1:]
        if len(parts) == 1 and parts[0] in ENDPOINTS:
            return int(self.model.settings.import_max_body_bytes)
        if len(parts) == 2 and parts[0] == LOOKUP_TABLES:
            return LOOKUP_MAX_BODY_BYTES
        return None

    def on_config_changed(self, changed: Sequence[str]) -> None:
        self.model.configure()

    def reset_data(self) -> None:
        self.model.reset(seed=self.seed)

    def snapshot_data(self) -> Any:
        return self.model.snapshot()

    def restore_data(self, data: Any) -> None:
        self.model.restore(data)

    def secret_values(self) -> Iterable[str]:
        model = getattr(self, "model", None)  # the masker may ask before the model exists
        return model.secrets() if model is not None else ()

    def rate_limit_fault_response(self) -> tuple[int, Mapping[str, str], bytes | str]:
        """§13 `rate_limit`: the exact §5.8 body (Retry-After only when the rule asks for it)."""
        return 429, {"Content-Type": "application/json"}, dumps(RateLimitExceeded().body())
