"""Furigana: the kana catalogue's ruby notation, rendered into an HTML page.

Pure Python (no Django): the page in, the page out.

The portal's kana catalogue (``locale/ja_Hira``, the ``ja-hira`` language of
``portal.age``) writes furigana in the plain-text notation of Aozora Bunko:
``｜漢字《かんじ》`` — a base after ``｜`` (U+FF5C) and its reading in ``《》``. The ``｜``
is never left out (Aozora allows that for a run of kanji): a placeholder's value before a
reading, ``%(name)s先生《せんせい》``, would otherwise join the base. The notation is plain
text, so it survives HTML escaping unchanged wherever a string goes: a template's
``{% translate %}``, a form error, an attribute, the ``<title>``.

``render_page`` turns it, in the finished HTML, into

- ``<ruby>漢字<rp>（</rp><rt>かんじ</rt><rp>）</rp></ruby>`` in text,
- the plain reading (``かんじ``) where markup cannot go: inside a tag (attribute values such as
  ``aria-label``, ``placeholder``, ``value``), ``<title>``, ``<textarea>``, ``<option>``;
- nothing inside ``<script>``, ``<style>`` and comments.

Only a base of kanji (and ``々〆〇``) with a reading of kana is notation: anything else — a
``｜`` or ``《`` in other text — stays as it is. User data (names, tool titles) never reaches
the renderer as notation: the templates print it through ``portal_age``'s ``|user_text``,
which writes ``｜《》`` as character references (the same characters on screen), and the
renderer reads only literal ones. Base and reading are copied from the page's own source,
already escaped, so the renderer adds no characters but the ruby tags.

A name with the reading its owner gave (a tool's, a school's, a class's ``よみがな``) comes
in a second notation that only ``portal_age``'s ``with_reading`` writes: the Unicode
interlinear annotation characters, ``U+FFF9 base U+FFFA reading U+FFFB``, around the escaped
name and reading. It becomes the same ruby over the whole name in text, and the reading alone
where markup cannot go. ``|user_text`` writes these three characters as character references
too, so user data cannot make one either.
"""

from __future__ import annotations

import re

# Han script as Japanese uses it: the unified ideographs (with extensions A–B and beyond), the
# compatibility ideographs, and the iteration mark 々, 〆 and 〇.
KANJI = "\u3005\u3006\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
# A reading: hiragana, katakana, the prolonged sound mark, the middle dot, spaces.
KANA = "\u3041-\u3096\u309d\u309e\u30a1-\u30fa\u30fc-\u30fe\u30fb\u3000 "

KANJI_RE = re.compile(f"[{KANJI}]")
_READING_RE = re.compile(f"[{KANA}]+")
NOTATION_RE = re.compile(f"｜(?P<base>[{KANJI}]+)《(?P<reading>[^《》｜<>]{{1,64}})》")
# A name and its reading (``portal_age.with_reading``), both escaped text: no tag, no anchor.
ANCHOR, SEPARATOR, TERMINATOR = "\ufff9", "\ufffa", "\ufffb"
NAMED_RE = re.compile(
    "\ufff9(?P<base>[^\ufff9-\ufffb<>]+)\ufffa(?P<reading>[^\ufff9-\ufffb<>]+)\ufffb"
)
# Tags and comments of the page, between which lies text. Attribute values of our own pages
# never hold a raw ">" (Django escapes it).
_TOKEN_RE = re.compile(r"<!--.*?-->|<[^>]*>", re.DOTALL)
_TAG_NAME_RE = re.compile(r"<\s*(/?)\s*([a-zA-Z][a-zA-Z0-9-]*)")
# Text where markup cannot go: the reading alone.
_PLAIN_ELEMENTS = frozenset({"title", "textarea", "option"})
# Text that is not text: left alone.
_RAW_ELEMENTS = frozenset({"script", "style"})


def _pair(match: re.Match[str]) -> tuple[str, str] | None:
    base = match.group("base")
    reading = match.group("reading")
    if _READING_RE.fullmatch(reading) is None:
        return None
    return base, reading


def _ruby(base: str, reading: str) -> str:
    return f"<ruby>{base}<rp>（</rp><rt>{reading}</rt><rp>）</rp></ruby>"


def to_ruby(text: str) -> str:
    """Turn the notation in ``text`` (HTML text, already escaped) into ``<ruby>`` elements."""

    def ruby(match: re.Match[str]) -> str:
        pair = _pair(match)
        return match.group(0) if pair is None else _ruby(*pair)

    def named(match: re.Match[str]) -> str:
        return _ruby(match.group("base"), match.group("reading"))

    return NOTATION_RE.sub(ruby, NAMED_RE.sub(named, text))


def to_plain(text: str) -> str:
    """Turn the notation in ``text`` into its reading alone (for attributes and titles)."""

    def reading(match: re.Match[str]) -> str:
        pair = _pair(match)
        return match.group(0) if pair is None else pair[1]

    return NOTATION_RE.sub(reading, NAMED_RE.sub(r"\g<reading>", text))


def render_page(html: str) -> str:
    """Render the notation in a whole HTML page: ruby in text, readings where no markup goes."""
    if "《" not in html and ANCHOR not in html:
        return html
    out: list[str] = []
    raw: str | None = None  # inside <script>/<style>: the element whose end tag we wait for
    plain = 0  # depth inside <title>/<textarea>/<option>
    position = 0
    for token in _TOKEN_RE.finditer(html):
        text = html[position : token.start()]
        out.append(text if raw else (to_plain(text) if plain else to_ruby(text)))
        tag = token.group(0)
        position = token.end()
        if tag.startswith("<!--"):
            out.append(tag)
            continue
        name_match = _TAG_NAME_RE.match(tag)
        if name_match is None:  # "<!DOCTYPE …>", a stray "<"
            out.append(tag)
            continue
        closing, name = name_match.group(1) == "/", name_match.group(2).lower()
        if raw:
            if closing and name == raw:
                raw = None
            out.append(tag)
            continue
        out.append(to_plain(tag))
        if name in _RAW_ELEMENTS and not closing:
            raw = name
        elif name in _PLAIN_ELEMENTS:
            plain = max(0, plain - 1) if closing else plain + 1
    tail = html[position:]
    out.append(tail if raw else (to_plain(tail) if plain else to_ruby(tail)))
    return "".join(out)
