"""The card sign-in page and a class's cards page (print, re-issue, revoke).

Views parse, authorize through ``services.managed_class`` (404 alike for missing and
forbidden), call the action and render. Refusals are ``services.CardError``s, rendered with
their own status and message by ``_refused``.
"""

from __future__ import annotations

from http import HTTPStatus

from allauth.account.app_settings import EmailVerificationMethod
from allauth.account.utils import get_next_redirect_url, perform_login
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from roster.models import SchoolClass
from sso import throttling

from . import services
from .pdf import cards_pdf

CARD_FAILURES_RETRY_AFTER = 60  # seconds; the window of MANABI_CARD_FAILED_PER_IP's default


def _refused(request: HttpRequest, error: services.CardError) -> HttpResponse:
    return render(
        request,
        "signin_cards/refused.html",
        {"message": error.message, "code": error.code},
        status=error.status,
    )


def _signin_page(request: HttpRequest, *, error: str = "", status: int = 200) -> HttpResponse:
    context = {
        "error": error,
        "prefix": services.SECRET_PREFIX,
        "next": get_next_redirect_url(request) or "",  # a tool's request waiting (?next=)
    }
    return render(request, "signin_cards/signin.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def card_signin(request: HttpRequest) -> HttpResponse:
    """GET: the camera page. POST ``secret`` (the card's QR text): sign the child in and go
    home — or on to ``next`` (a tool's sign-in request), as the password page does —, or the
    page again with the reason (nothing signed in, the failure counted)."""
    if request.method == "GET":
        return _signin_page(request)
    if throttling.failures_exceeded(request, throttling.CARD_FAILURES):
        response = _signin_page(
            request,
            error=_("まちがった カードが おおいので、すこし まってね。せんせいに いってね。"),
            status=HTTPStatus.TOO_MANY_REQUESTS,
        )
        response["Retry-After"] = str(CARD_FAILURES_RETRY_AFTER)
        return response
    try:
        user = services.card_user(request.POST.get("secret", "").strip())
    except services.CardError as error:
        throttling.count_failure(request, throttling.CARD_FAILURES)
        return _signin_page(request, error=str(error.message), status=error.status)
    # No e-mail step: a card is never a sign-up, and allauth's "optional" verification acts on
    # sign-ups only (it would still look the child's verified address up: a query per card).
    return perform_login(
        request,
        user,
        email_verification=EmailVerificationMethod.NONE,
        redirect_url=get_next_redirect_url(request) or reverse("portal:home"),
    )


def _class(request: HttpRequest, class_id: str) -> SchoolClass:
    return services.managed_class(request.user, class_id)


def _pdf(school_class: SchoolClass, cards: list[services.PrintedCard]) -> HttpResponse:
    title = f"ログインカード {school_class.title}"
    response = HttpResponse(cards_pdf(cards, title=title), content_type="application/pdf")
    name = f"signin-cards-{school_class.class_code or school_class.sourced_id}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"  # the secrets exist only in this answer
    return response


@login_required
@require_GET
def class_cards(request: HttpRequest, class_id: str) -> HttpResponse:
    """The class's students with their cards."""
    try:
        school_class = _class(request, class_id)
        rows = services.class_cards(acting_user=request.user, school_class=school_class)
    except services.CardError as error:
        return _refused(request, error)
    context = {"school_class": school_class, "rows": rows}
    return render(request, "signin_cards/class_cards.html", context)


@login_required
@require_POST
def print_class(request: HttpRequest, class_id: str) -> HttpResponse:
    """New cards for every student of the class (their old cards stop working): the PDF."""
    try:
        school_class = _class(request, class_id)
        cards = services.issue_cards(acting_user=request.user, school_class=school_class)
    except services.CardError as error:
        return _refused(request, error)
    return _pdf(school_class, cards)


@login_required
@require_POST
def print_student(request: HttpRequest, class_id: str, student_id: str) -> HttpResponse:
    """A new card for one student (the old one stops working): the PDF of that card."""
    try:
        school_class = _class(request, class_id)
        cards = services.issue_cards(
            acting_user=request.user, school_class=school_class, students=[student_id]
        )
    except services.CardError as error:
        return _refused(request, error)
    return _pdf(school_class, cards)


@login_required
@require_POST
def revoke(request: HttpRequest, class_id: str, card_id: int) -> HttpResponse:
    """Revoke one card in use; back to the class's cards."""
    try:
        school_class = _class(request, class_id)
        card = services.card_of_class(school_class, card_id)
        services.revoke_card(acting_user=request.user, card=card)
    except services.CardError as error:
        return _refused(request, error)
    messages.success(
        request,
        _("%(name)s さんの カードを 無効にしました。") % {"name": card.user.kana_full_name},
    )
    return HttpResponseRedirect(reverse("signin_cards:class_cards", args=[class_id]))
