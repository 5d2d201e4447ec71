"""Fake Mixpanel ingestion API (mixpanel-ingestion.md): `/import`, `/track`, `/engage`, `/groups` and a
minimal `/lookup-tables`; and the raw event export `GET /api/2.0/export` on `data[-eu|-in].mixpanel.com`.

Wire (`routes`, `control`, `app`) is kept apart from the model (plain Python, no Flask): `model`
(`IngestionModel` and the endpoint table), the endpoint handlers (`importing`, `tracking`,
`profile_updates`, `lookup_requests`; the export's `exporting`), what they share (`ingest`, `outcome`,
`answers`), `decoding`, `auth`, `validation`, `storage`, `profiles`, `lookup_tables`, `ratelimit`, `stats`,
`regions`, `projects`, `config` and `errors`. See README.md.
"""

from .app import create_app, new_state
from .model import IngestionModel
from .regions import HOST_PATTERNS
from .state import MixpanelState

SERVICE = "mixpanel"
# §2.3: SANs of the HTTPS test certificate (the core adds localhost and 127.0.0.1).
TLS_HOSTNAMES = HOST_PATTERNS

__all__ = ["HOST_PATTERNS", "SERVICE", "TLS_HOSTNAMES", "IngestionModel", "MixpanelState", "create_app",
           "new_state"]
