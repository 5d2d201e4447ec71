"""Data Import Keys: generated on a partner's tile of one workspace (braze-cohort-sync.md §5)."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass

from .errors import ControlError
from .partners import mask_secret


@dataclass
class DataImportKey:
    secret: str
    workspace: str
    partner: str
    active: bool
    created_at: float
    invalidated_at: float | None = None

    def to_json(self, mask: bool = True) -> dict:
        return {
            "key": mask_secret(self.secret) if mask else self.secret,
            "workspace": self.workspace,
            "partner": self.partner,
            "active": self.active,
            "created_at": self.created_at,
            "invalidated_at": self.invalidated_at,
        }


class DataImportKeyRing:
    """All Data Import Keys of the fake, by secret.

    ``new_key_revokes_old`` (keys.new_key_revokes_old, UNK Q-13): when true, generating a key
    invalidates the other active keys of the same workspace tile. An invalidated key never comes back.
    """

    def __init__(self, seed: int = 0) -> None:
        self._keys: dict[str, DataImportKey] = {}
        # Seeded so generated secrets are reproducible run to run (DESIGN.md §6 determinism).
        self._random = random.Random(seed)

    def new_secret(self, key_format: str) -> str:
        raw = self._random.getrandbits(128)
        if key_format == "hex":
            return f"{raw:032x}"
        return str(uuid.UUID(int=raw, version=4))

    def add(self, secret: str, workspace: str, partner: str, at: float, revoke_others: bool) -> DataImportKey:
        if not isinstance(secret, str) or not secret:
            raise ControlError("a data import key must be a non-empty string")
        if secret in self._keys:
            raise ControlError("that data import key already exists", status=409)
        if revoke_others:
            for key in self.of_tile(workspace, partner):
                self.invalidate(key.secret, at)
        key = DataImportKey(secret, workspace, partner, True, at)
        self._keys[secret] = key
        return key

    def invalidate(self, secret: str, at: float) -> DataImportKey:
        key = self._keys.get(secret)
        if key is None:
            raise ControlError("unknown data import key", status=404)
        if key.active:
            key.active, key.invalidated_at = False, at
        return key

    def get(self, secret: str) -> DataImportKey | None:
        return self._keys.get(secret)

    def of_tile(self, workspace: str, partner: str, active_only: bool = True) -> list[DataImportKey]:
        return [
            k for k in self._keys.values()
            if k.workspace == workspace and k.partner == partner and (k.active or not active_only)
        ]

    def all(self) -> list[DataImportKey]:
        return list(self._keys.values())
