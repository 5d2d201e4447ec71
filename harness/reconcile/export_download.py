"""Pulling a raw export from a live Mixpanel (the fake, or Mixpanel itself) for `reconcile --mixpanel URL`.

    path = download_export("http://127.0.0.1:8081", window, ExportCredentials("harness-secret"), directory)

`GET BASE_URL/api/2.0/export` with the window's UTC days as `from_date`/`to_date` (both inclusive, so the
download may hold events outside a window that starts or ends mid-day: reconcile counts them as outside
the window), `time_in_ms=true` (the dedup key keeps its milliseconds) and `Accept-Encoding: gzip`. The
answer is streamed to a file as it arrives, still compressed when the server compressed it (the export
reader takes plain and gzip files alike).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import requests
import urllib3

from harness.reconcile.errors import ReconcileInputError
from harness.reconcile.window import TimeWindow

EXPORT_PATH = "/api/2.0/export"
DEFAULT_SECRET = "harness-secret"  # the fake's default project secret (DESIGN.md §4)
CHUNK_BYTES = 1 << 20
CONNECT_TIMEOUT_S = 10
READ_TIMEOUT_S = 600  # between two chunks: Mixpanel may think a long time before the first line
MAX_SHOWN_BODY = 300


def is_export_url(text: str) -> bool:
    """Whether a `--mixpanel` value names a live API rather than a file."""
    return text.lower().startswith(("http://", "https://"))


def export_url(base_url: str) -> str:
    """The export endpoint under a base URL (`https://data.mixpanel.com` or a fake's loopback address)."""
    base = base_url.rstrip("/")
    return base if base.endswith(EXPORT_PATH) else base + EXPORT_PATH


@dataclass(frozen=True)
class ExportCredentials:
    """`SECRET` (a project secret) or `USER:SECRET` (a service account, which needs `project_id`)."""

    secret: str = DEFAULT_SECRET
    project_id: str | None = None

    def basic_auth(self) -> tuple[str, str]:
        user, colon, password = self.secret.partition(":")
        return (user, password) if colon else (self.secret, "")

    @property
    def service_account(self) -> bool:
        return bool(self.basic_auth()[1])


def window_dates(window: TimeWindow) -> tuple[str, str]:
    """`from_date`, `to_date`: the UTC days of the window's bounds; both bounds are needed."""
    if window.from_ms is None or window.to_ms is None:
        raise ReconcileInputError("--mixpanel URL needs --from and --to (the export's from_date and to_date)")
    return _utc_day(window.from_ms), _utc_day(window.to_ms)


def _utc_day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d")


def download_export(base_url: str, window: TimeWindow, credentials: ExportCredentials, directory: Path) -> Path:
    """Stream one export into a new file under `directory`; `ReconcileInputError` (one line naming the URL)
    when it cannot be fetched or the server refuses it."""
    url = export_url(base_url)
    from_date, to_date = window_dates(window)
    params = {"from_date": from_date, "to_date": to_date, "time_in_ms": "true"}
    if credentials.project_id is not None:
        params["project_id"] = credentials.project_id
    elif credentials.service_account:
        raise ReconcileInputError("--mixpanel-secret USER:SECRET (a service account) needs --mixpanel-project-id")
    host = urlsplit(url).netloc.replace(":", "_") or "mixpanel"
    target = directory / f"export-{host}-{from_date}-{to_date}.jsonl"
    index = 1
    while target.exists():  # the same server named twice: keep both downloads
        index += 1
        target = directory / f"export-{host}-{from_date}-{to_date}-{index}.jsonl"
    try:
        with requests.get(url, params=params, auth=credentials.basic_auth(), stream=True,
                          headers={"Accept-Encoding": "gzip", "Accept": "text/plain"},
                          timeout=(CONNECT_TIMEOUT_S, READ_TIMEOUT_S)) as response:
            if response.status_code != 200:
                body = response.raw.read(MAX_SHOWN_BODY, decode_content=True) or b""
                shown = body.decode("utf-8", "replace").strip()
                raise ReconcileInputError(f"{url}: the export answered HTTP {response.status_code}"
                                          + (f": {shown}" if shown else ""))
            with open(target, "wb") as handle:
                for chunk in response.raw.stream(CHUNK_BYTES, decode_content=False):
                    handle.write(chunk)
    except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
        raise ReconcileInputError(f"{url}: cannot download the export ({exc})") from None
    except OSError as exc:
        raise ReconcileInputError(f"{target}: cannot write the export ({exc.strerror or exc})") from None
    return target
