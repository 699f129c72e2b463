"""Template helpers of the screen styles (``portal.age``).

- ``{{ value|user_text }}``: user data (a name, a tool or class title) escaped, with the
  furigana notation's ``｜《》`` written as character references, so ``portal.furigana`` never
  reads notation in it (the browser shows the same characters).
- ``{% person_name person %}``: a person's name as the viewer's screen style reads it — kana
  for the kana style, kanji for the standard one, kanji and (kana) for staff.
- ``{% class_title school_class %}``: a homeroom's title; in the kana style's language a
  title of the usual form 「1年1組」/「3年B組」 gets its furigana (ねん, くみ), any other
  stays as it is.
- ``{% session_tag %}``: the digest other tabs compare (``static/session_watch.js``).
"""

from __future__ import annotations

import re

from django import template
from django.http import HttpRequest
from django.utils import translation
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

from roster.models import SchoolClass, User

from .. import age

register = template.Library()

_HOMEROOM = re.compile(r"([0-9０-９]{1,2})年([0-9０-９A-Za-zＡ-Ｚａ-ｚ]{1,3})組")
_NOTATION_REFS = str.maketrans({"｜": "&#xFF5C;", "《": "&#x300A;", "》": "&#x300B;"})


@register.filter(is_safe=True)
def user_text(value: object) -> SafeString:
    """Escape ``value`` and write the furigana delimiters as character references."""
    return mark_safe(str(conditional_escape(str(value))).translate(_NOTATION_REFS))  # noqa: S308


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


@register.simple_tag(takes_context=True)
def class_title(context: template.Context, school_class: SchoolClass) -> SafeString:
    """``school_class``'s title, with furigana on 年 and 組 for the kana style (see above)."""
    match = _HOMEROOM.fullmatch(school_class.title)
    if match is None or translation.get_language() != age.KANA_LANGUAGE:
        return user_text(school_class.title)
    return format_html(
        "{}<ruby>年<rp>（</rp><rt>ねん</rt><rp>）</rp></ruby>"
        "{}<ruby>組<rp>（</rp><rt>くみ</rt><rp>）</rp></ruby>",
        match.group(1),
        match.group(2),
    )


@register.simple_tag(takes_context=True)
def session_tag(context: template.Context) -> str:
    request = context.get("request")
    return age.session_tag(request) if isinstance(request, HttpRequest) else "signed-out"
