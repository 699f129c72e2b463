"""Text that can be stored and sent: where decoded input holds characters it cannot carry.

A JSON string may spell an unpaired surrogate (``"\\ud800"``, RFC 8259 §8.2): Python decodes
it to a ``str`` that UTF-8 cannot encode, so the database driver, a hash or the response
encoder fails on it later. A NUL character is valid Unicode but PostgreSQL text cannot hold
it. The parsers check decoded input once, here, and answer their endpoint's normal 400 error
with the description ``Unencodable.describe`` gives.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

SURROGATE = "an unpaired surrogate"
NUL = "a NUL character"


@dataclass(frozen=True)
class Unencodable:
    """The first string that cannot be carried: where it is and what it holds."""

    path: str  # "iss", "aud[1]", "ext.name"; "" for the value itself
    in_name: bool  # the name of a member of the object at ``path``, not a value
    problem: str  # SURROGATE or NUL

    def describe(
        self, subject: str = "", *, whole: str = "the body", name: str = "member name"
    ) -> str:
        """A description for the tool's developer, e.g. ``"client_assertion iss contains an
        unpaired surrogate"``; ``whole`` names the value itself when ``subject`` is empty,
        ``name`` what its names are called (``"parameter name"`` for a query)."""
        where = " ".join(part for part in (subject, self.path) if part) or whole
        if self.in_name:
            return f"{where} has a {name} that contains {self.problem}"
        return f"{where} contains {self.problem}"


def text_problem(value: str, *, nul: bool = False) -> str | None:
    """SURROGATE if ``value`` does not encode to UTF-8, NUL if ``nul`` and it holds one."""
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return SURROGATE
    if nul and "\x00" in value:
        return NUL
    return None


def find_unencodable(value: Any, *, nul: bool = False) -> Unencodable | None:
    """Walk a decoded JSON value (objects' names and values, arrays, strings) and return its
    first string with an unpaired surrogate — or a NUL character when ``nul`` — else None.

    Iterative: a body nested as deeply as the JSON decoder allows does not exhaust the stack.
    """
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            problem = text_problem(item, nul=nul)
            if problem:
                return Unencodable(path, in_name=False, problem=problem)
        elif isinstance(item, Mapping):
            children: list[tuple[str, Any]] = []
            for name, member in item.items():
                if isinstance(name, str):
                    problem = text_problem(name, nul=nul)
                    if problem:
                        return Unencodable(path, in_name=True, problem=problem)
                children.append((f"{path}.{name}" if path else str(name), member))
            stack.extend(reversed(children))
        elif isinstance(item, list | tuple):
            stack.extend(reversed([(f"{path}[{i}]", member) for i, member in enumerate(item)]))
    return None


def find_unencodable_field(
    fields: Iterable[tuple[str, str]], *, nul: bool = False
) -> Unencodable | None:
    """The first form or query field whose name or value cannot be carried, else None."""
    for name, value in fields:
        problem = text_problem(name, nul=nul)
        if problem:
            return Unencodable("", in_name=True, problem=problem)
        problem = text_problem(value, nul=nul)
        if problem:
            return Unencodable(name, in_name=False, problem=problem)
    return None
