"""Authentication of a partner request: checks A1-A5 in order (braze-cohort-sync.md §4.5).

Credentials travel in the JSON body only (§4.3). The first failing check answers 401.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .clusters import Cluster
from .config import BrazeConfig
from .errors import InvalidClientSecret, InvalidPartnerApiKey, PartnerNotEnabled, UnauthorizedAccess
from .keys import DataImportKeyRing
from .partners import PartnerRegistry
from .workspace import Workspace


def authenticate(body: Mapping[str, Any], slug: str, cluster: Cluster, cfg: BrazeConfig, partners: PartnerRegistry,
                 keys: DataImportKeyRing, workspaces: Mapping[str, Workspace]) -> tuple[Workspace, str]:
    """The workspace the request writes to and the partner key it used; raises the first failing check."""
    partner_key = body.get("partner_api_key")
    partner = partners.partner_of_key(partner_key) if isinstance(partner_key, str) else None
    if partner is None or not isinstance(partner_key, str):  # A1: a registered partner key
        raise InvalidPartnerApiKey()
    if cluster.partner_key_region(cfg.other_clusters_key_region) not in partner.regions_of(partner_key):
        raise InvalidPartnerApiKey()  # A2: the key's region serves this cluster
    if partner.slug != slug:  # A3: the key's partner owns the path slug
        raise UnauthorizedAccess()
    secret = body.get("client_secret")
    key = keys.get(secret) if isinstance(secret, str) else None
    workspace = workspaces.get(key.workspace) if key is not None else None
    # A4: an existing, active Data Import Key ...
    if key is None or not key.active or workspace is None or not isinstance(secret, str):
        raise InvalidClientSecret()
    if cfg.enforce_workspace_cluster and workspace.cluster != cluster:  # ... of a workspace on this cluster
        raise InvalidClientSecret()
    if key.partner != partner.slug or not workspace.partner_enabled(partner.slug):  # A5
        raise PartnerNotEnabled(client_secret=secret)
    return workspace, partner_key
