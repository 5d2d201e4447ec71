"""Faker's person values for a world's users, drawn with exactly Faker's random calls but without its overhead.

A world of 200,000 users asked Faker for about a million names, user names and e-mail addresses; each call
went through Faker's proxy, its generic `random_elements` (which rebuilds the weights of a 700-name table
on every call) and its template parser. `PersonDraws` reads the same tables from the same seeded Faker and
makes the same calls on the same `random.Random`, in the same order, so a world is byte-identical to the one
Faker alone would give (tests/generate/test_world_build.py compares the two), about ten times faster.
"""

from __future__ import annotations

import bisect
import itertools
import re
import string
from collections.abc import Callable
from typing import Any

from faker.utils import text as faker_text

# Faker's template tokens ({{first_name}}) and its bothify placeholders.
_TOKEN = re.compile(r"\{\{\s*(\w+)\s*\}\}")
_NUMERIFY = "#%$!@"
_DRAWN_TOKENS = ("first_name", "last_name")


def _element_draw(rnd: Any, table: Any, weighted: bool) -> Callable[[], str]:
    """What Faker's `random_element(table)` draws: `random.choices(keys, weights)` for a weighted
    OrderedDict (here with its cumulative weights computed once), else `random.choice`."""
    if isinstance(table, dict):
        keys = tuple(table)
        if not weighted:
            return lambda: rnd.choice(keys)
        cumulative = list(itertools.accumulate(table.values()))
        total, last = cumulative[-1] + 0.0, len(cumulative) - 1
        random, find = rnd.random, bisect.bisect
        # random.choices(population, weights, k=1), step for step
        return lambda: keys[find(cumulative, random() * total, 0, last)]
    sequence = table if isinstance(table, (tuple, list, str)) else tuple(table)
    return lambda: rnd.choice(sequence)


class PersonDraws:
    """`first_name()`, `last_name()`, `user_name()`, `email()` (Faker's `email(safe=True)`) and
    `country_code()` of the seeded Faker `fake`, drawing from its random generator."""

    def __init__(self, fake: Any) -> None:
        rnd = fake.random
        self._fake = fake
        self._rnd = rnd
        person = fake.first_name.__self__
        internet = fake.user_name.__self__
        address = fake.country_code.__self__
        self.first_name = _element_draw(rnd, person.first_names, person.__use_weighting__)
        self.last_name = _element_draw(rnd, person.last_names, person.__use_weighting__)
        self.country_code = _element_draw(rnd, address.alpha_2_country_codes, address.__use_weighting__)
        self._domain = _element_draw(rnd, internet.safe_domain_names, internet.__use_weighting__)
        self._to_ascii = internet._to_ascii
        self._formats = tuple(internet.user_name_formats)
        self._plans = {f: self._plan(f) for f in self._formats}
        self._names_plain = all(not any(c in name for c in _NUMERIFY + "?{}")
                                for table in (person.first_names, person.last_names) for name in table)
        self._slugs: dict[str, str] = {}

    @staticmethod
    def _plan(pattern: str) -> list[str] | None:
        """The pattern as literal pieces and the tokens to draw, or None when it needs Faker itself."""
        pieces: list[str] = []
        position = 0
        for match in _TOKEN.finditer(pattern):
            if match.group(1) not in _DRAWN_TOKENS:
                return None
            pieces += [pattern[position:match.start()], "{" + match.group(1)]
            position = match.end()
        pieces.append(pattern[position:])
        if any(c in piece for piece in pieces if not piece.startswith("{") for c in "%$!@"):
            return None
        return pieces

    def user_name(self) -> str:
        """Faker's `user_name()`: a format, its name tokens, then each `#` digit and each `?` letter."""
        rnd = self._rnd
        plan = self._plans[rnd.choice(self._formats)]
        if plan is None or not self._names_plain:
            return self._fake.user_name()  # pragma: no cover - a locale whose formats need Faker's parser
        parsed = "".join(
            (self.first_name() if piece == "{first_name" else self.last_name()) if piece.startswith("{") else piece
            for piece in plan)
        if "#" in parsed:
            parsed = re.sub("#", lambda _: str(rnd.randint(0, 9)), parsed)
        if "?" in parsed:
            parsed = re.sub(r"\?", lambda _: rnd.choice(string.ascii_letters), parsed)
        slug = self._slugs.get(parsed)
        if slug is None:
            slug = self._slugs[parsed] = faker_text.slugify(self._to_ascii(parsed.lower()), allow_unicode=True)
        return slug

    def email(self) -> str:
        """Faker's `email(safe=True)`: `user_name@` one of the example domains, lower-cased."""
        return f"{self.user_name()}@{self._domain()}".lower()
