"""Custom parameter variable substitution (LTI Core 1.3 Appendix C).

A value that is exactly a known ``$Variable`` is replaced; an unknown variable, or a variable
with no value for this launch, passes through unchanged, as the specification requires.
"""

from __future__ import annotations

from collections.abc import Mapping


def substitute(custom: Mapping[str, str], variables: Mapping[str, str | None]) -> dict[str, str]:
    result: dict[str, str] = {}
    for name, value in custom.items():
        text = str(value)
        if text.startswith("$"):
            replacement = variables.get(text)
            result[name] = replacement if replacement is not None else text
        else:
            result[name] = text
    return result
