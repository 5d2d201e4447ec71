"""Braze instances (clusters), their REST hosts and partner key regions (braze-cohort-sync.md §4.1).

The table is data: adding an instance is one row, no code change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Cluster:
    instance: str
    host: str
    # "US" or "EU"; None = one of the other regions whose key is braze.other_clusters_key_region.
    key_region: str | None

    def partner_key_region(self, other_clusters_key_region: str) -> str:
        return self.key_region or other_clusters_key_region


CLUSTERS: tuple[Cluster, ...] = (
    *(Cluster(f"US-0{n}", f"rest.iad-0{n}.braze.com", "US") for n in range(1, 9)),
    Cluster("EU-01", "rest.fra-01.braze.eu", "EU"),
    Cluster("EU-02", "rest.fra-02.braze.eu", "EU"),
    Cluster("AU-01", "rest.au-01.braze.com", None),
    Cluster("JP-01", "rest.jp-01.braze.com", None),
    Cluster("ID-01", "rest.id-01.braze.com", None),
    Cluster("KR-01", "rest.kr-01.braze.com", None),
)
BY_INSTANCE: Mapping[str, Cluster] = {c.instance: c for c in CLUSTERS}
BY_HOST: Mapping[str, Cluster] = {c.host: c for c in CLUSTERS}

# Host globs the in-process router intercepts (DESIGN.md §4: rest.*.braze.com, rest.*.braze.eu).
HOST_PATTERNS: tuple[str, ...] = ("rest.*.braze.com", "rest.*.braze.eu")


def cluster_by_instance(instance: str) -> Cluster | None:
    return BY_INSTANCE.get(instance.strip().upper()) if isinstance(instance, str) else None


def unknown_cluster_header(host: str | None, header_value: str | None) -> bool:
    """The cluster header would decide (the Host is no Braze REST host) but names no known instance."""
    if not header_value:
        return False
    name = host.strip().lower().rsplit(":", 1)[0] if host and not host.startswith("[") else ""
    return name not in BY_HOST and cluster_by_instance(header_value) is None


def resolve_cluster(host: str | None, header_value: str | None, default_instance: str) -> Cluster:
    """§4.1 order: a known REST host; else the cluster header; else braze.default_cluster."""
    if host:
        name = host.strip().lower().rsplit(":", 1)[0] if not host.startswith("[") else ""
        if name in BY_HOST:
            return BY_HOST[name]
    if header_value:
        cluster = cluster_by_instance(header_value)
        if cluster is not None:
            return cluster
    cluster = cluster_by_instance(default_instance)
    if cluster is None:
        raise ValueError(f"braze.default_cluster names no known instance: {default_instance!r}")
    return cluster
