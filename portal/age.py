"""Screens for each age: which screen style a person gets, and the shared tablet's clean slate.

The one owner of "who sees kana": a student of the lower grades of primary school (P1–P3 in
``roster.grades``; romaji and most kanji come later) gets the **kana** style — the portal's
own text with furigana on every kanji, the name in kana, larger targets. Other students get
the **standard** style; staff (teachers, administrators, vendors, operators) the standard text
with names in kanji and kana (**staff**).

The kana style is a Django language of its own, ``ja-hira`` (locale ``ja_Hira``, like
Django's ``sr-latn``): its catalogue ``locale/ja_Hira`` holds the Japanese text with furigana
in Aozora notation (``｜漢字《かんじ》``), which ``portal.furigana`` renders into ``<ruby>`` in
text and into the reading in attributes and titles. ``ScreenStyleMiddleware`` chooses it:

- signed in, the roster decides: a kana-style child reading Japanese gets ``ja-hira``,
  everybody else reading ``ja-hira`` gets ``ja``; English stays English for every age;
- before sign-in nobody is known: Japanese, with a 「ふりがな」 switch in the footer (the
  ordinary ``set_language`` cookie) — and the QR card sign-in page, which first-graders use,
  has furigana whatever the switch says (``KANA_FIRST_URL_NAMES``).

Sign-out (and "switch user", which is sign-out) leaves nothing of the child on the tablet:
the session ends (Django's ``logout`` flushes it), the language cookie is deleted (the next
child starts in Japanese), messages not yet shown are dropped (their cookie outlives the
session), and the answer says ``Clear-Site-Data: "cache", "storage"`` (the browser drops its
HTTP and back-forward caches and the page storage of the origin). Other tabs of the child
notice through ``static/session_watch.js``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.crypto import salted_hmac

from roster.grades import Grade
from roster.models import RosterRole, User

from . import furigana

KANA_LANGUAGE = "ja-hira"
JAPANESE = "ja"
LOWER_GRADES = frozenset({Grade.P1, Grade.P2, Grade.P3})
# Pages in kana whatever the language switch says (first-graders sign in there).
KANA_FIRST_URL_NAMES = frozenset({"signin_cards:signin"})
CLEAR_SITE_DATA = '"cache", "storage"'
_SIGNED_OUT = "_manabi_signed_out"


class ScreenStyle(enum.StrEnum):
    KANA = "kana"
    STANDARD = "standard"
    STAFF = "staff"


def grade_of(user: User) -> str:
    """The roster grade of a student: their own, else their homeroom's."""
    if user.grade:
        return user.grade
    home = user.home_class
    return home.grade if home is not None else ""


def screen_style(user: object) -> ScreenStyle:
    """The screen style of ``user`` (anyone not signed in: standard)."""
    if not isinstance(user, User) or not user.is_authenticated:
        return ScreenStyle.STANDARD
    if user.role != RosterRole.STUDENT:
        return ScreenStyle.STAFF
    return ScreenStyle.KANA if grade_of(user) in LOWER_GRADES else ScreenStyle.STANDARD


def name_for(person: User, style: ScreenStyle) -> str:
    """The name of ``person`` as a viewer of ``style`` reads it: in kana for the kana style."""
    if style is ScreenStyle.KANA:
        return person.kana_full_name or person.username
    return person.display_name


def language_for(
    style: ScreenStyle, asked: str, *, signed_in: bool, kana_first: bool = False
) -> str:
    """The language to answer in, given the one the request asked for (cookie, browser).

    Only the two Japanese variants are exchanged; English (any other language) stays. Signed
    in, the roster decides between them; before sign-in the 「ふりがな」 switch does, except on
    a ``kana_first`` page.
    """
    if asked not in (JAPANESE, KANA_LANGUAGE):
        return asked
    if signed_in:
        return KANA_LANGUAGE if style is ScreenStyle.KANA else JAPANESE
    return KANA_LANGUAGE if kana_first else asked


def session_tag(request: HttpRequest) -> str:
    """A tag of the browser's current session for its tabs to compare (not the key: a digest)."""
    user = getattr(request, "user", None)
    key = request.session.session_key if hasattr(request, "session") else None
    if user is None or not user.is_authenticated or not key:
        return "signed-out"
    return salted_hmac("manabi.portal.age.session_tag", key).hexdigest()[:32]


@receiver(user_logged_out, dispatch_uid="portal.age.signed_out")
def _remember_sign_out(sender: object, request: HttpRequest | None, **kwargs: object) -> None:
    if request is not None:
        setattr(request, _SIGNED_OUT, True)
        # Messages not yet shown (kept in a cookie, which outlives the session) would greet
        # the next person: consume them, so the answer deletes the cookie.
        for _ in messages.get_messages(request):
            pass


def signed_out(request: HttpRequest) -> bool:
    """Whether this request ended its session (sign-out, switch user: Django's ``logout``)."""
    return bool(getattr(request, _SIGNED_OUT, False))


class ScreenStyleMiddleware:
    """Answer in the viewer's screen style; after a sign-out, leave a clean tablet.

    After ``LocaleMiddleware`` (which read the language cookie) and authentication.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        asked = translation.get_language()
        user = getattr(request, "user", None)
        style = screen_style(user)
        signed_in = bool(user is not None and user.is_authenticated)
        kana_first = not signed_in and _resolved_name(request) in KANA_FIRST_URL_NAMES
        language = language_for(style, asked, signed_in=signed_in, kana_first=kana_first)
        if language != asked:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        request.screen_style = style  # type: ignore[attr-defined]
        response = self.get_response(request)
        if signed_out(request):
            response.delete_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                path=settings.LANGUAGE_COOKIE_PATH,
                domain=settings.LANGUAGE_COOKIE_DOMAIN,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            )
            response["Clear-Site-Data"] = CLEAR_SITE_DATA
        if translation.get_language() == KANA_LANGUAGE and _is_html(response):
            response.content = furigana.render_page(response.content.decode()).encode()
            if response.has_header("Content-Length"):
                response["Content-Length"] = str(len(response.content))
        return response


def _resolved_name(request: HttpRequest) -> str | None:
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return None
    return match.view_name


def _is_html(response: HttpResponse) -> bool:
    return (
        not getattr(response, "streaming", False)
        and response.get("Content-Type", "").startswith("text/html")
        and response.get("Content-Encoding") is None
    )
