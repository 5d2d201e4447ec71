"""Region resolution (mixpanel-ingestion.md §2.1), fixed order: path prefix, port map, Host header, `us`.

The hosts: the ingestion API's `api[-eu|-in].mixpanel.com` and the raw export API's `data[-eu|-in].mixpanel.com`
(one app serves them all; the host names the region)."""

from __future__ import annotations

from collections.abc import Mapping

PATH_PREFIXES = ("us", "eu", "in")
HOST_PATTERNS = ("api.mixpanel.com", "api-eu.mixpanel.com", "api-in.mixpanel.com",
                 "data.mixpanel.com", "data-eu.mixpanel.com", "data-in.mixpanel.com")
_HOST_PREFIXES = (("api-eu.", "eu"), ("api-in.", "in"), ("data-eu.", "eu"), ("data-in.", "in"))


def resolve_region(path_prefix: str | None, port: str | int | None, host: str | None,
                   ports: Mapping[str, str]) -> str:
    if path_prefix in PATH_PREFIXES:
        return path_prefix
    if port is not None and ports:
        region = ports.get(str(port))
        if region in PATH_PREFIXES:
            return region
    name = (host or "").strip().lower()
    for prefix, region in _HOST_PREFIXES:
        if name.startswith(prefix):
            return region
    return "us"
