"""The board administrator's OIDC client pages (``/school/board/<board>/oidc-clients``): the
board's clients, a form to register one (its secret shown once), editing, a new secret, and
turning a client off or on.

Views parse, authorize through ``_board``/``_client`` (anything outside the acting user's
boards answers 404, the same as a missing one), call ``oidc_clients.services`` and render.
Every change is a POST with CSRF; a refusal shows the form again with the reasons (400).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from roster.administration import NotAdministered
from roster.models import Org, OrgType, SchoolClass, User
from tools_registry.models import PrivacyLevel

from . import services
from .adapter import issuer
from .errors import ClientSettingsInvalid
from .models import OidcClient

PRIVACY_WORDS: dict[str, Any] = {
    PrivacyLevel.ID_ONLY: _("氏名もメールアドレスも送りません（IDのみ）"),
    PrivacyLevel.NAME: _("氏名（漢字とかな）を送ります"),
    PrivacyLevel.NAME_EMAIL: _("氏名とメールアドレスを送ります"),
}


def _acting(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101  (login_required)
    return user


def _board(request: HttpRequest, board_id: str) -> Org:
    try:
        return services.board_of(_acting(request), board_id)
    except NotAdministered:
        raise Http404 from None  # the same answer for missing and forbidden


def _client(board: Org, client_id: str) -> OidcClient:
    try:
        return services.client_of(board, client_id)
    except NotAdministered:
        raise Http404 from None


class ClientForm(forms.Form):
    name = forms.CharField(label=_("ツールの名前"), max_length=services.MAX_NAME)
    redirect_uris = forms.CharField(
        label=_("リダイレクト URI（1行に1つ、完全一致で照合します）"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    privacy_level = forms.ChoiceField(
        label=_("個人情報の送信"),
        widget=forms.RadioSelect,
        choices=[(v, PRIVACY_WORDS[v]) for v in PrivacyLevel.values],
        initial=PrivacyLevel.ID_ONLY,
    )
    schools = forms.MultipleChoiceField(
        label=_("使える学校（選ばなければすべての学校）"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    classes = forms.MultipleChoiceField(
        label=_("使えるクラス（選ばなければ学校の全員）"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, board: Org, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.board_schools = list(board.children.filter(type=OrgType.SCHOOL).order_by("name", "pk"))
        self.board_classes = list(
            SchoolClass.objects.filter(school__in=self.board_schools)
            .select_related("school")
            .order_by("school__name", "title", "pk")
        )
        for name, choices in (
            ("schools", [(str(s.sourced_id), s.name) for s in self.board_schools]),
            (
                "classes",
                [(str(k.sourced_id), f"{k.school.name} {k.title}") for k in self.board_classes],
            ),
        ):
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)  # noqa: S101  (declared above)
            field.choices = choices

    @classmethod
    def of(cls, oidc_client: OidcClient) -> ClientForm:
        initial = {
            "name": oidc_client.client.name,
            "redirect_uris": "\n".join(oidc_client.client.get_redirect_uris()),
            "privacy_level": oidc_client.privacy_level,
            "schools": [str(s.sourced_id) for s in oidc_client.schools.all()],
            "classes": [str(k.sourced_id) for k in oidc_client.classes.all()],
        }
        return cls(initial=initial, board=oidc_client.board)

    def values(self) -> services.ClientSettings:
        data = self.cleaned_data
        schools, classes = set(data["schools"]), set(data["classes"])
        return services.ClientSettings(
            name=data["name"],
            redirect_uris=data["redirect_uris"].splitlines(),
            privacy_level=data["privacy_level"],
            schools=[s for s in self.board_schools if str(s.sourced_id) in schools],
            classes=[k for k in self.board_classes if str(k.sourced_id) in classes],
        )

    def add_service_errors(self, error: ClientSettingsInvalid) -> None:
        for field, message in error.fields.items():
            self.add_error(field if field in self.fields else None, str(message))


def _facts() -> dict[str, str]:
    """What a tool's developer configures (the values of the "Sign in with" settings)."""
    base = issuer()
    return {
        "issuer": base,
        "discovery": base + "/.well-known/openid-configuration",
        "authorization": str(settings.LTI_ISSUER).rstrip("/") + reverse("idp:oidc:authorization"),
    }


def _list_page(
    request: HttpRequest, board: Org, form: ClientForm | None = None, status: int = HTTPStatus.OK
) -> HttpResponse:
    context = {
        "board": board,
        "clients": list(services.clients_of(board)),
        "form": form or ClientForm(board=board),
        "facts": _facts(),
        "privacy_words": PRIVACY_WORDS,
    }
    return render(request, "oidc_clients/admin/clients.html", context, status=status)


def _secret_page(request: HttpRequest, board: Org, issued: services.Issued) -> HttpResponse:
    context = {"board": board, "issued": issued, "facts": _facts()}
    return render(request, "oidc_clients/admin/secret.html", context)


@never_cache  # a new client's secret is shown once on the answer and never kept by a browser
@login_required
@require_http_methods(["GET", "POST"])
def clients(request: HttpRequest, board_id: str) -> HttpResponse:
    board = _board(request, board_id)
    if request.method == "GET":
        return _list_page(request, board)
    form = ClientForm(request.POST, board=board)
    if form.is_valid():
        try:
            issued = services.register_client(
                acting_user=_acting(request), board=board, values=form.values()
            )
        except ClientSettingsInvalid as e:
            form.add_service_errors(e)
        else:
            return _secret_page(request, board, issued)
    return _list_page(request, board, form, HTTPStatus.BAD_REQUEST)


def _edit_page(
    request: HttpRequest, oidc_client: OidcClient, form: ClientForm, status: int
) -> HttpResponse:
    context = {"board": oidc_client.board, "oidc_client": oidc_client, "form": form}
    return render(request, "oidc_clients/admin/client_edit.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, board_id: str, client_id: str) -> HttpResponse:
    board = _board(request, board_id)
    oidc_client = _client(board, client_id)
    if request.method == "GET":
        return _edit_page(request, oidc_client, ClientForm.of(oidc_client), HTTPStatus.OK)
    form = ClientForm(request.POST, board=board)
    if form.is_valid():
        try:
            services.update_client(
                acting_user=_acting(request), oidc_client=oidc_client, values=form.values()
            )
        except ClientSettingsInvalid as e:
            form.add_service_errors(e)
        else:
            messages.success(
                request, gettext("「%(name)s」を保存しました。") % {"name": form.values().name}
            )
            return redirect("portal:oidc_clients", board.sourced_id)
    return _edit_page(request, oidc_client, form, HTTPStatus.BAD_REQUEST)


@never_cache
@login_required
@require_POST
def action(request: HttpRequest, board_id: str, client_id: str, action: str) -> HttpResponse:
    """``deactivate``, ``activate`` or ``secret`` (a new secret, shown once)."""
    board = _board(request, board_id)
    oidc_client = _client(board, client_id)
    acting = _acting(request)
    if action == "secret":
        issued = services.issue_new_secret(acting_user=acting, oidc_client=oidc_client)
        return _secret_page(request, board, issued)
    if action not in ("deactivate", "activate"):
        raise Http404
    changed = services.set_active(
        acting_user=acting, oidc_client=oidc_client, active=action == "activate"
    )
    text = (
        gettext("「%(name)s」のサインインを有効にしました。")
        if changed.active
        else gettext("「%(name)s」のサインインを止めました。発行済みのトークンは無効です。")
    )
    messages.success(request, text % {"name": changed.client.name})
    return redirect("portal:oidc_clients", board.sourced_id)
