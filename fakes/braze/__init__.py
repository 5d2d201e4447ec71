"""Fake Braze partner cohort import (braze-cohort-sync.md §4-§7, §9).

Wire (``routes``, ``control``) is kept apart from the model (``model``, ``users``, ``cohorts``,
``membership``, ``segments``, ``keys``, ``partners``, ``ratelimit``, ``locks``, ``validation``, ``changes``).
"""

from .model import CohortImportModel
from .segments import SegmentEvaluator
from .users import BrazeUserStore

__all__ = ["BrazeUserStore", "CohortImportModel", "SegmentEvaluator"]
