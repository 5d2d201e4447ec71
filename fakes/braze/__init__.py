"""Fake Braze partner cohort import (braze-cohort-sync.md §4-§7, §9).

Wire (``routes``, ``control``, ``app``) is kept apart from the model (``model``, ``users``,
``cohorts``, ``membership``, ``segments``, ``keys``, ``partners``, ``ratelimit``, ``locks``,
``validation``, ``changes``, ``clusters``, ``errors``, ``config``).
"""

from .app import create_app, new_state
from .clusters import HOST_PATTERNS
from .model import CohortImportModel
from .segments import SegmentEvaluator
from .state import BrazeState
from .users import BrazeUserStore

SERVICE = "braze"

__all__ = ["HOST_PATTERNS", "SERVICE", "BrazeState", "BrazeUserStore", "CohortImportModel", "SegmentEvaluator",
           "create_app", "new_state"]
