"""Template helpers of the screen styles (``portal.age``).

- ``{{ value|user_text }}``: user data (a name, a tool or class title) escaped, with the
  furigana notation's ``｜《》`` written as character references, so ``portal.furigana`` never
  reads notation in it (the browser shows the same characters).
- ``{% person_name person %}``: a person's name as the viewer's screen style reads it — kana
  for the kana style, kanji for the standard one, kanji and (kana) for staff.
- ``with_reading(name, reading)``: the one rule for a name with the reading its owner gave
  (``よみがな``): ``user_text``, and in the kana style's language the reading over the whole
  name — ruby in text, the reading alone in attributes, ``<title>`` and ``<option>``
  (``portal.furigana`` decides by where the name lands). The tags below print through it:
- ``{% tool_title placement %}``: a placement's title (the home tiles); its reading is the
  tool's (``Tool.reading``, the vendor's) when the title is the tool's name, as placing a
  tool makes it; a placement titled otherwise has no reading. Every reading is shown only
  while the name is the one it was given for (``roster.models.current_reading``).
- ``{% tool_name tool %}``, ``{% school_name org %}``: a tool's, a school's (or board's) name.
- ``{% class_title school_class %}``: a class's title with its reading; without one, in
  the kana style's language a title of the usual form 「1年1組」/「3年B組」 gets its furigana
  (ねん, くみ), any other stays as it is.
- ``{% session_tag %}``: the digest other tabs compare (``static/session_watch.js``).
"""

from __future__ import annotations

import re

from django import template
from django.http import HttpRequest
from django.utils import translation
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

from roster.models import Org, SchoolClass, User
from tools_registry.models import Placement, Tool

from .. import age
from ..furigana import ANCHOR, SEPARATOR, TERMINATOR

register = template.Library()

_HOMEROOM = re.compile(r"([0-9０-９]{1,2})年([0-9０-９A-Za-zＡ-Ｚａ-ｚ]{1,3})組")
_NOTATION_REFS = str.maketrans(
    {
        "｜": "&#xFF5C;",
        "《": "&#x300A;",
        "》": "&#x300B;",
        ANCHOR: "&#xFFF9;",
        SEPARATOR: "&#xFFFA;",
        TERMINATOR: "&#xFFFB;",
    }
)


@register.filter(is_safe=True)
def user_text(value: object) -> SafeString:
    """Escape ``value`` and write the furigana delimiters as character references."""
    return mark_safe(str(conditional_escape(str(value))).translate(_NOTATION_REFS))  # noqa: S308


def with_reading(name: object, reading: str) -> SafeString:
    """``name`` as ``user_text`` prints it; in the kana style's language, with ``reading``.

    The name and the reading are both escaped by ``user_text``; around them go the
    annotation characters that only ``portal.furigana`` reads (it runs on every page in that
    language), so the page gets ruby in text and the reading alone where markup cannot go.
    """
    base = user_text(name)
    if not base or not reading or translation.get_language() != age.KANA_LANGUAGE:
        return base
    return mark_safe(f"{ANCHOR}{base}{SEPARATOR}{user_text(reading)}{TERMINATOR}")  # noqa: S308


def placement_reading(placement: Placement) -> str:
    """The reading of ``placement``'s title: its tool's, if the title is the tool's name."""
    tool = placement.deployment.registration.tool
    return tool.reading if placement.title == tool.name else ""


@register.simple_tag
def tool_title(placement: Placement) -> SafeString:
    """``placement``'s title with its reading (see the module docstring)."""
    return with_reading(placement.title, placement_reading(placement))


@register.simple_tag
def tool_name(tool: Tool) -> SafeString:
    """``tool``'s name with the reading its vendor gave."""
    return with_reading(tool.name, tool.reading)


@register.simple_tag
def school_name(org: Org) -> SafeString:
    """``org``'s (a school's, a board's) name with its reading."""
    return with_reading(org.name, org.reading)


def _style(context: template.Context) -> age.ScreenStyle:
    request = context.get("request")
    user = getattr(request, "user", None)
    return age.screen_style(user)


@register.simple_tag(takes_context=True)
def person_name(context: template.Context, person: User) -> SafeString:
    """``person``'s name for this page's viewer (see the module docstring)."""
    style = _style(context)
    name = age.name_for(person, style)
    if style is age.ScreenStyle.STAFF and person.kana_full_name and person.full_name:
        return format_html(
            '{} <span class="kana-name">（{}）</span>',
            user_text(name),
            user_text(person.kana_full_name),
        )
    return user_text(name)


@register.simple_tag
def class_title(school_class: SchoolClass) -> SafeString:
    """``school_class``'s title with its reading, else furigana on 年 and 組 (see above)."""
    if school_class.reading:
        return with_reading(school_class.title, school_class.reading)
    match = _HOMEROOM.fullmatch(school_class.title)
    if match is None or translation.get_language() != age.KANA_LANGUAGE:
        return user_text(school_class.title)
    # The catalogue's notation around our own two kanji (the digits and letters are the
    # pattern's): ruby in text, the reading in an attribute.
    return format_html("{}｜年《ねん》{}｜組《くみ》", match.group(1), match.group(2))


@register.simple_tag(takes_context=True)
def session_tag(context: template.Context) -> str:
    request = context.get("request")
    return age.session_tag(request) if isinstance(request, HttpRequest) else "signed-out"
