"""Fake Braze partner cohort import (braze-cohort-sync.md §4-§7, §9).

Wire (``routes``, ``control``, ``app``) is kept apart from the model (``model``, ``users``,
``cohorts``, ``membership``, ``segments``, ``keys``, ``partners``, ``ratelimit``, ``locks``,
``validation``, ``changes``, ``clusters``, ``errors``, ``config``).
"""

from .app import create_app, new_state
from .clusters import CLUSTERS, HOST_PATTERNS
from .model import CohortImportModel
from .segments import SegmentEvaluator
from .state import BrazeState
from .users import BrazeUserStore

SERVICE = "braze"

# HOST_PATTERNS are globs, which a certificate cannot carry: the HTTPS test certificate names every
# concrete REST host of the cluster table instead (fakes/core/README.md §1).
TLS_HOSTNAMES: tuple[str, ...] = tuple(c.host for c in CLUSTERS)

__all__ = ["HOST_PATTERNS", "SERVICE", "TLS_HOSTNAMES", "BrazeState", "BrazeUserStore", "CohortImportModel",
           "SegmentEvaluator", "create_app", "new_state"]
