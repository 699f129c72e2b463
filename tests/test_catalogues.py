"""The translation catalogues: every English entry translated, and no entry of either catalogue
fuzzy (a fuzzy entry is not compiled: its page would show the msgid, in Japanese).

Strings missing from a catalogue altogether are found by running makemessages into a copy
(docs/screens-for-each-age.md); this checks what the catalogues hold.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

LOCALE = Path(__file__).resolve().parent.parent / "locale"
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


def entries(path: Path) -> list[dict[str, str | list[str]]]:
    """The catalogue's live entries: msgid, the msgstr (all plural forms joined) and flags."""
    found: list[dict[str, str | list[str]]] = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        lines = [line for line in block.strip().splitlines() if not line.startswith("#~")]
        if not any(line.startswith("msgid ") for line in lines):
            continue
        fields: dict[str, str] = {}
        flags: list[str] = []
        current = ""
        for line in lines:
            if line.startswith("#,"):
                flags += [flag.strip() for flag in line[2:].split(",")]
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                fields[current] += "".join(_STRING.findall(line))
            else:
                current = line.split(" ", 1)[0]
                fields[current] = "".join(_STRING.findall(line))
        msgstr = "".join(v for k, v in fields.items() if k.startswith("msgstr"))
        found.append({"msgid": fields["msgid"], "msgstr": msgstr, "flags": flags})
    return found


@pytest.mark.parametrize("language", ["en", "ja_Hira"])
def test_no_entry_is_fuzzy(language: str) -> None:
    catalogue = LOCALE / language / "LC_MESSAGES" / "django.po"
    fuzzy = [e["msgid"] for e in entries(catalogue) if "fuzzy" in e["flags"]]
    assert fuzzy == []


def test_every_english_entry_is_translated() -> None:
    catalogue = entries(LOCALE / "en" / "LC_MESSAGES" / "django.po")
    assert len(catalogue) > 500
    untranslated = [e["msgid"] for e in catalogue if e["msgid"] and not e["msgstr"]]
    assert untranslated == []
