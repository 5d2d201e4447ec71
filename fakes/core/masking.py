"""Secret masking for the request journal (DESIGN.md §6: secrets never leak into journals).

Each fake configures one `SecretMasker` with
- the header names whose values are credentials (`Authorization` keeps its scheme: `Basic ***`),
- the field names whose values are secrets wherever they appear (JSON keys, query / form parameters),
- a provider of the secret *values* it currently knows (tokens, API secrets, keys), masked anywhere in text.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

from fakes.core.nesting import elided_marker

MASK = "***"

DEFAULT_MAX_DEPTH = 64
"""`mask_value` shows containers down to this many levels; deeper ones become a marker string."""

DEFAULT_SECRET_HEADERS = ("authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key")


MIN_BASE64_CORE = 8
"""Shorter base64 fragments are not masked: they would hit unrelated text."""


def base64_cores(secret: str) -> set[str]:
    """The base64 text a secret always turns into inside a larger base64-encoded payload (Mixpanel's
    `data=<base64>`), at each of the three byte alignments; edge characters mixed with neighbouring bytes
    are left out. Standard, URL-safe, `+`-as-space (form-decoded) and percent-encoded spellings."""
    raw = secret.encode("utf-8")
    cores: set[str] = set()
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw).decode("ascii")
        # (Mutation testing: `// 7` here is equivalent, ceil(8s/7) == ceil(8s/6) for the shifts 0, 1, 2.)
        start = -(-8 * shift // 6)  # first character made only of the secret's bits
        end = 8 * (shift + len(raw)) // 6  # one past the last such character
        core = encoded[start:end]
        if len(core) >= MIN_BASE64_CORE:
            cores.update({core, core.replace("+", "-").replace("/", "_"), core.replace("+", " "),
                          quote(core, safe="")})
    return cores


def _any_case_hex(digits: str) -> str:
    # explicit classes rather than IGNORECASE, which would slow every comparison of the scan
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in digits)


def escaped_spelling(secret: str) -> str:
    """A regex matching `secret` however its characters are escaped, each on its own: JSON `\\u002d` (any hex
    case, behind any number of backslashes, surrogate pairs for astral characters), `\\/`, percent-encoding of
    the UTF-8 bytes in either hex case, and `+` for a space."""
    parts = []
    for ch in secret:
        alternatives = [re.escape(ch)]
        code = ord(ch)
        units = [code] if code < 0x10000 else [0xD800 + ((code - 0x10000) >> 10), 0xDC00 + ((code - 0x10000) & 0x3FF)]
        alternatives.append("".join(r"\\+u" + _any_case_hex(f"{unit:04x}") for unit in units))
        alternatives.append("".join("%" + _any_case_hex(f"{byte:02x}") for byte in ch.encode("utf-8", "surrogatepass")))
        if ch in "/\"\\":
            alternatives.append(r"\\+" + re.escape(ch))
        if ch == " ":
            alternatives.append(r"\+")
        parts.append("(?:" + "|".join(alternatives) + ")")
    return "".join(parts)


def _escaped_search(secrets: Iterable[str]) -> re.Pattern[str] | None:
    """One regex for every secret's escaped spellings, longest first. The lookahead on the characters a match
    can start with lets the scan skip the rest quickly (several times faster on a 64 KiB body)."""
    ordered = sorted(secrets, key=len, reverse=True)
    if not ordered:
        return None
    starts = "".join(sorted({re.escape(s[0]) for s in ordered} | {"%", r"\\"}))
    return re.compile(f"(?=[{starts}])(?:" + "|".join(escaped_spelling(s) for s in ordered) + ")")


def _masked_field(match: re.Match[str]) -> str:
    whole = match.group(0)
    start = match.start()
    if match.group(1) == "=" and start > 0 and match.string[start - 1] not in "?&;":
        return whole  # "xtoken=..." is another parameter, not this field
    if not match.group(2):
        return whole
    name_end = match.start(1) - start
    return whole[:name_end] + match.group(1) + MASK + match.group(3)


def _sub_at_literal(text: str, literal: str, pattern: re.Pattern[str], lowered: str | None) -> tuple[str, bool]:
    """`pattern.sub(_masked_field, text)` for a case-insensitive pattern that starts with the lower-case
    `literal`, and whether the last masked value ran to the end of the text.

    A match can only start where the literal does, so `str.find` (a fast substring search) on the
    lower-cased text (`lowered`: ASCII text, where lowering keeps every position) jumps from candidate to
    candidate and the regex only runs there: several times faster than `sub` scanning a large body itself,
    with the same left-to-right, non-overlapping result. Other text (`lowered` None) is searched by the regex."""

    def find(start: int) -> int:
        if lowered is not None:
            return lowered.find(literal, start)
        found = pattern.search(text, start)
        return found.start() if found is not None else -1

    pos = find(0)
    if pos < 0:
        return text, False
    parts: list[str] = []
    last = 0
    reached_end = False  # pragma: no mutate (equivalent: set by every match; no match returns False above)
    while pos >= 0:
        match = pattern.match(text, pos)
        if match is None:
            pos = find(pos + 1)
            continue
        masked = _masked_field(match)
        parts.append(text[last:pos])
        parts.append(masked)
        last = match.end()
        reached_end = last == len(text) and masked.endswith(MASK)
        pos = find(last)
    if not parts:
        return text, False
    parts.append(text[last:])
    return "".join(parts), reached_end


def _unsafe_tail(values: list[str]) -> int:
    """Characters at the end of a masked window that may hold part of a secret the window cut."""
    return 3 * max(max((len(v) for v in values), default=1), 16)  # 16: room for a field name cut short


class SecretMasker:
    def __init__(
        self,
        *,  # pragma: no mutate (equivalent: `/` here, every caller passes keywords)
        secret_values: Callable[[], Iterable[str]] | None = None,
        secret_fields: Iterable[str] = (),
        secret_headers: Iterable[str] = DEFAULT_SECRET_HEADERS,
    ) -> None:
        self._secret_values = secret_values or (lambda: ())
        self.secret_fields = frozenset(secret_fields) | frozenset(f.lower() for f in secret_fields)
        self.secret_headers = frozenset(h.lower() for h in secret_headers)
        self._field_patterns = self._compile_field_patterns(self.secret_fields)
        self._variants_cache: tuple[tuple[str, ...], list[str]] | None = None
        self._escaped_cache: re.Pattern[str] | None = None

    @staticmethod
    def _compile_field_patterns(fields: frozenset[str]) -> list[tuple[str, re.Pattern[str]]]:
        # One pattern per field and shape, each starting with a literal, so the regex engine can jump between
        # candidates instead of trying every position (10x faster on large bodies than one alternation, which
        # stops at every quote of a JSON body). Each is paired with the literal it starts with, which
        # `_sub_at_literal` finds by substring search before running the regex. Field names match in any
        # letter case (`API_SECRET=` hides a secret as well as `api_secret=`). A JSON string that text cut
        # short leaves unterminated is masked to the end (`\Z`): a cut must never expose a secret's first part.
        patterns = []
        for name in sorted({f.lower() for f in fields}, key=len, reverse=True):
            # The literal leaves out the closing quote: substring search skips ahead on the needle's last
            # character, and a quote is everywhere in JSON while a name's last letter is not.
            patterns.append(('"' + name, re.compile('"' + re.escape(name) + r'"(\s*:\s*")((?:[^"\\]|\\.)*\\?)("|\Z)',
                                                    re.IGNORECASE)))
            patterns.append((name + "=", re.compile(re.escape(name) + r"(=)([^&;#\s]*)()", re.IGNORECASE)))
        return patterns

    def current_values(self) -> list[str]:
        """The secret spellings masked right now (pass to the `_values` arguments to look them up once)."""
        return self._values()

    def _values(self) -> list[str]:
        values = tuple(sorted({v for v in self._secret_values() if isinstance(v, str) and v}))
        cached = self._variants_cache
        # (Mutation testing: `cached[-1]` is equivalent in output: never equal, so the variants are rebuilt.)
        if cached is not None and cached[0] == values:
            return cached[1]
        variants: set[str] = set()
        for v in values:
            variants.update({v, quote(v, safe=""), quote_plus(v)})
            variants.update(base64_cores(v))
        # Longest first, so a secret that contains another is masked whole.
        ordered = sorted(variants, key=len, reverse=True)
        self._escaped_cache = _escaped_search(values)
        self._variants_cache = (values, ordered)
        return ordered

    # -- the four shapes a journal entry holds -----------------------------------------------------
    def mask_text(self, text: str | None, _values: list[str] | None = None) -> str | None:
        if not text:
            return text
        return self._mask(text, self._values() if _values is None else _values)[0]

    def _mask(self, text: str, values: list[str]) -> tuple[str, bool]:
        """The masked text, and whether a secret field's value ran to its very end (then the end is masked)."""
        end_masked = False
        # Single-character checks are memchr-fast: JSON-shaped fields need a quote, parameters an "=".
        has_quote, has_equals = '"' in text, "=" in text
        if has_quote or has_equals:
            lowered = text.lower() if text.isascii() else None
            for literal, pattern in self._field_patterns:
                if has_quote if literal[0] == '"' else has_equals:
                    masked, reached_end = _sub_at_literal(text, literal, pattern, lowered)
                    if masked is not text:
                        text = masked
                        lowered = text.lower() if lowered is not None else None
                    end_masked = end_masked or reached_end
        for value in values:
            if value in text:
                text = text.replace(value, MASK)
        if "\\" in text or "%" in text:  # escaped spellings: JSON \u002d, \/, lower-case percent-encoding
            escaped = self._escaped_pattern()
            if escaped is not None:
                text = escaped.sub(MASK, text)
        return text, end_masked

    def _escaped_pattern(self) -> re.Pattern[str] | None:
        self._values()  # refreshes the cache when the secrets changed
        return self._escaped_cache

    def mask_capped(self, text: str, max_chars: int) -> tuple[str, bool]:
        """`(masked text, truncated)`: at most `max_chars` characters of `text`, masked, for the journal.

        Only a window of `text` is masked (the part that can be shown plus a margin), so a large body costs
        no more than a small one. A secret cut by the window's end is never shown: its fragment lies in the
        window's last `longest - 1` characters (at most three times that once masked, as a one-character
        match becomes "***"), and that tail is dropped, unless a secret field's value ran to the window's
        end and was masked there (a JSON string or parameter the window cut)."""
        if len(text) <= max_chars:
            return self.mask_text(text) or text, False
        values = self._values()
        tail = _unsafe_tail(values)
        # (Mutation testing: a larger factor is equivalent in output: the window path shows the same prefix.)
        if len(text) <= max_chars + 2 * tail:  # the window would be the whole text: nothing is cut
            return (self.mask_text(text, values) or text)[:max_chars], True
        masked, end_masked = self._mask(text[:max_chars + 2 * tail], values)
        keep = len(masked) if end_masked else len(masked) - tail
        return masked[:max(0, min(max_chars, keep))], True

    def window_chars(self, max_chars: int) -> int:
        """How many leading characters of a text `mask_capped(text, max_chars)` can read."""
        return max_chars + 2 * _unsafe_tail(self._values())

    def mask_header(self, name: str, value: str, _values: list[str] | None = None) -> str:
        if name.lower() in self.secret_headers:
            scheme, sep, _credential = value.strip().partition(" ")
            if sep and name.lower() in ("authorization", "proxy-authorization"):
                return f"{scheme} {MASK}"
            return MASK
        return self.mask_text(value, _values) or value

    def mask_headers(self, headers: Iterable[tuple[str, str]] | Mapping[str, str]) -> dict[str, str]:
        items = headers.items() if isinstance(headers, Mapping) else headers
        values = self._values()
        out: dict[str, str] = {}
        for name, value in items:
            masked = self.mask_header(name, value, values)
            out[name] = f"{out[name]}, {masked}" if name in out else masked
        return out

    def mask_value(self, value: Any, _key: str | None = None, _values: list[str] | None = None, *,
                   max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
        """A masked copy of a decoded payload (dicts, lists, strings); the input is not modified.

        Containers nested deeper than `max_depth` levels are replaced by a marker string: the journal
        stays JSON-serialisable and shows no part of them. Walks with an explicit stack, so any nesting
        is safe (a recursive walk dies with RecursionError near 1,000 levels)."""
        values = self._values() if _values is None else _values
        fields = self.secret_fields
        elided = elided_marker(max_depth)
        root: list[Any] = [None]
        # (where the result goes, slot in it, the input value, its key when in a mapping, its depth)
        stack: list[tuple[Any, Any, Any, str | None, int]] = [(root, 0, value, _key, 0)]
        while stack:
            target, slot, item, key, depth = stack.pop()
            if key is not None and key.lower() in fields and item not in (None, "", [], {}):
                target[slot] = MASK
            elif isinstance(item, str):
                target[slot] = self.mask_text(item, values)
            elif isinstance(item, Mapping):
                if depth >= max_depth:
                    target[slot] = elided
                    continue
                out: dict[Any, Any] = dict.fromkeys(item)  # keeps the key order
                target[slot] = out
                stack.extend((out, k, v, str(k), depth + 1) for k, v in item.items())
            elif isinstance(item, (list, tuple)):
                if depth >= max_depth:
                    target[slot] = elided
                    continue
                items: list[Any] = [None] * len(item)
                target[slot] = items
                stack.extend((items, i, v, None, depth + 1) for i, v in enumerate(item))
            else:
                target[slot] = item
        return root[0]  # pragma: no mutate (equivalent: root has one slot, so root[-1] is root[0])

    def mask_query(self, pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
        values = self._values()
        out: dict[str, list[str]] = {}
        for key, value in pairs:
            masked = MASK if key.lower() in self.secret_fields and value else (self.mask_text(value, values) or value)
            out.setdefault(self.mask_text(key, values) or key, []).append(masked)
        return out
