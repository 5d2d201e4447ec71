"""The fast NDJSON chunk mapper of `harness map` equals the plain composition (iter_ndjson + map_records) byte for
byte, counts and malformed-line reports included (DESIGN.md §5 `harness map`; currents-to-mixpanel.md §1-§7, E12)."""

from __future__ import annotations

import json
import random

import pytest

from harness.mapping import MappingConfig
from harness.mapping.pipeline import map_ndjson_chunk, map_ndjson_chunk_reference


def _mixed_input(shapes_dir, seed: int, n: int = 1500) -> bytes:
    """Every sample type in both raw shapes (exported or not), plus hostile and odd lines."""
    rng = random.Random(seed)
    paths = sorted((shapes_dir / "custom-http").rglob("*.json"))
    templates = [json.loads(p.read_text(encoding="utf-8")) for p in paths]
    for path in sorted((shapes_dir / "storage-json").glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        if rng.random() < 0.8:  # the rest rely on the file-name hint (or have no type at all)
            record["event_type"] = path.stem
        templates.append(record)
    odd_lines = [
        "", "   ", "\x0b", "{not json", "[1, 2]", "42", "null", '"text"',
        '{"event_type": "no.such.Type", "external_user_id": "u"}',
        '{"event_type": null, "external_user_id": "u"}',
        '{"event_type": ["a"], "external_user_id": "u"}',
        '{"event_type": 7, "user": {"external_user_id": "u"}}',
        '{"event_type": "users.behaviors.CustomEvent", "user": "not an object", "external_user_id": "u"}',
        '{"event_type": "users.behaviors.CustomEvent", "external_user_id": "u", "name": "x", "properties": "{bad"}',
        '{"event_type": "users.behaviors.CustomEvent", "external_user_id": {"string": "u"}, "extra_field": 1}',
        '{"event_type": "users.behaviors.CustomEvent", "external_user_id": "u", "properties": {"n": 1e400}}',
        '{"event_type": "users.behaviors.CustomEvent", "external_user_id": "u", "name": "big", '
        '"properties": "{\\"n\\": 18446744073709551616}"}',
    ]
    lines = []
    for i in range(n):
        if rng.random() < 0.08:
            lines.append(rng.choice(odd_lines))
            continue
        record = json.loads(json.dumps(rng.choice(templates)))
        record["id"] = f"id-{i}"
        holder = record["user"] if type(record.get("user")) is dict else record
        roll = rng.random()
        if roll < 0.05:
            holder.pop("external_user_id", None)
        elif roll < 0.08:
            holder["external_user_id"] = ""
        elif roll < 0.11:
            holder.pop("time", None) if holder is record else record.pop("time", None)
        elif roll < 0.13:
            record["unknown_extra"] = {"nested": [1, 2]}
        elif roll < 0.15:
            record["padding"] = "x" * rng.randrange(100, 3000)  # crosses a small max_record_bytes
        text = json.dumps(record, ensure_ascii=rng.random() < 0.5, separators=(",", ":") if i % 2 else None)
        lines.append(("  " + text) if i % 17 == 0 else text)
    return ("\n".join(lines) + "\n").encode()


CONFIGS = [
    MappingConfig(),
    MappingConfig(profile="legacy", legacy_partner_id=True),
    MappingConfig(null_policy="emit_null", strict_properties=True, nested_property_mode="flatten"),
    MappingConfig(max_record_bytes=1500, undocumented_types="export", empty_external_id_is_missing=False),
]


@pytest.mark.parametrize("config_index", range(len(CONFIGS)))
@pytest.mark.parametrize("type_hint", [None, "users.messages.email.Send"])
def test_fast_chunk_mapper_equals_reference(shapes_dir, config_index, type_hint):
    """Fast path vs plain path on generated mixed input: same bytes, same counts, same malformed lines."""
    data = _mixed_input(shapes_dir, seed=config_index * 10 + (type_hint is not None))
    settings = CONFIGS[config_index].as_dict()
    # Fresh configs (cold runner caches) for both, then a second pass on the warmed fast config.
    fast_config = MappingConfig(**settings)
    expected = map_ndjson_chunk_reference(data, 3, type_hint, MappingConfig(**settings))
    for _ in range(2):
        got = map_ndjson_chunk(data, 3, type_hint, fast_config)
        assert got.output == expected.output
        assert got.report.as_dict() == expected.report.as_dict()
        assert got.report.events_by_name == expected.report.events_by_name
        assert got.report.warnings == expected.report.warnings
        assert got.malformed == expected.malformed
        assert got.malformed_count == expected.malformed_count
    assert expected.report.mapped > 100 and expected.malformed_count > 5 and expected.report.reasons
