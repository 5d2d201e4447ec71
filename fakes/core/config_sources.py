"""Where a fake's configuration comes from besides `PUT /_harness/config` (mixpanel-ingestion.md §1:
"set in the config file or by environment").

- A config file (YAML or JSON): one section per fake, dotted keys or nested objects:

      mixpanel:
        import.max_body_bytes: 5000000
        ratelimit: {retry_after_s: 2}
      braze:
        partner_slug: mixpanel          # a fake's own prefix (braze.) may be left out

- Environment: `HARNESS_<FAKE>__<KEY PARTS>`, `__` standing for the dot:
  `HARNESS_MIXPANEL__IMPORT__MAX_BODY_BYTES=5000000`. The value is read as JSON when it parses
  (numbers, true/false, null, arrays, objects), else as a plain string.

Environment wins over the file. Keys are checked by the fake's settings as usual (unknown key → error).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ENV_PREFIX = "HARNESS_"


class ConfigSourceError(ValueError):
    """A config file or variable that cannot be used; the message says which and why."""


def load_config_file(path: Path) -> dict[str, dict[str, Any]]:
    """`{fake name: {key: value}}` from a YAML or JSON file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigSourceError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except Exception as exc:  # yaml and json raise several types; all mean "not parseable"
        kind = "JSON" if path.suffix.lower() == ".json" else "YAML"
        raise ConfigSourceError(f"config file {path} is not valid {kind}: "
                                f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    if data is None:
        return {}
    if not isinstance(data, Mapping) or not all(isinstance(v, Mapping) or v is None for v in data.values()):
        raise ConfigSourceError(f"config file {path}: expected one mapping per fake, e.g. 'mixpanel: {{...}}'")
    return {str(name): dict(section or {}) for name, section in data.items()}


def config_from_env(fake: str, environ: Mapping[str, str]) -> dict[str, Any]:
    """Dotted keys for `fake` from `HARNESS_<FAKE>__A__B=value` variables."""
    prefix = f"{ENV_PREFIX}{fake.upper().replace('-', '_')}__"
    out: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.startswith(prefix) or len(name) == len(prefix):
            continue
        key = ".".join(part.lower() for part in name[len(prefix):].split("__"))
        try:
            out[key] = json.loads(raw)
        except ValueError:
            out[key] = raw
        except RecursionError:
            raise ConfigSourceError(f"{name}: the value is nested too deeply") from None
    return out
