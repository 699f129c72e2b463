"""The administrators' sign-in pages (``/school/org/<org>/sign-in``): their organisation's
upstream identity providers — list, add, edit, turn off and on, test — and the recent refused
sign-ins with their reasons.

Views parse, authorize through ``_org``/``_idp`` (anything outside what the acting user
administers answers 404, the same as a missing one), call ``sso.idp_admin`` and render. Every
change is a POST with CSRF followed by a redirect; a refusal shows the form again (400). A
test's result is kept in the session for the one list page its redirect shows.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from roster.administration import NotAdministered
from roster.models import Org, User

from . import idp_admin, saml_admin, signin_log
from .models import FailureReason, IdentityProvider, IdpKind, MatchRule

RECENT_FAILURES = 50
# 「設定をテスト」's result, kept for the one page its redirect shows (POST → redirect → GET).
CHECK_SESSION_KEY = "sso.admin.check_report"


def _acting(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101  (login_required)
    return user


def _org(request: HttpRequest, org_id: str) -> Org:
    try:
        return idp_admin.org_of(_acting(request), org_id)
    except NotAdministered:
        raise Http404 from None  # the same answer for missing and forbidden


def _idp(org: Org, pk: int) -> IdentityProvider:
    try:
        return idp_admin.idp_of(org, pk)
    except NotAdministered:
        raise Http404 from None


class IdpForm(forms.Form):
    """The settings of an OpenID Connect, Google or Entra ID sign-in; rules are idp_admin's."""

    kind = forms.ChoiceField(
        label=_("種類"),
        choices=[(k.value, k.label) for k in idp_admin.OIDC_KINDS],
        widget=forms.RadioSelect,
    )
    name_ja = forms.CharField(label=_("ボタンの表示名（日本語）"), max_length=80)
    name_en = forms.CharField(label=_("ボタンの表示名（英語）"), max_length=80, required=False)
    issuer = forms.CharField(
        label=_("発行者（issuer）の URL"),
        max_length=500,
        required=False,
        help_text=_("Google と Entra ID は空欄でかまいません（決まった URL を使います）。"),
        widget=forms.URLInput(attrs={"autocomplete": "off", "inputmode": "url"}),
    )
    client_id = forms.CharField(label=_("クライアントID"), max_length=191)
    client_secret = forms.CharField(
        label=_("クライアントシークレット"),
        max_length=191,
        required=False,
        help_text=_("保存したシークレットは表示しません。変えるときだけ入力してください。"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}, render_value=False),
    )
    tenant_id = forms.CharField(label=_("テナントID（Entra ID）"), max_length=64, required=False)
    allowed_domains = forms.CharField(
        label=_("許可するドメイン"),
        required=False,
        help_text=_(
            "1行に1つ。Google は hd（Workspace のドメイン）、"
            "メールで照合するときはメールのドメイン。"
        ),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    match_rule = forms.ChoiceField(
        label=_("名簿との照合"), choices=MatchRule.choices, widget=forms.RadioSelect
    )
    match_claim = forms.CharField(
        label=_("照合に使うクレーム"),
        max_length=200,
        required=False,
        help_text=_("例: preferred_username（ユーザー名）、sourcedId など。"),
    )
    allow_students = forms.BooleanField(label=_("児童生徒がログインできる"), required=False)
    allow_staff = forms.BooleanField(label=_("教職員がログインできる"), required=False)

    def settings(self) -> idp_admin.IdpSettings:
        data = self.cleaned_data
        return idp_admin.IdpSettings(
            kind=data["kind"],
            name_ja=data["name_ja"],
            name_en=data["name_en"],
            issuer=data["issuer"],
            client_id=data["client_id"],
            client_secret=data["client_secret"],
            allowed_domains=idp_admin.normalised_domains(data["allowed_domains"]),
            tenant_id=data["tenant_id"],
            match_rule=data["match_rule"],
            match_claim=data["match_claim"],
            allow_students=bool(data["allow_students"]),
            allow_staff=bool(data["allow_staff"]),
        )

    def add_service_errors(self, refused: idp_admin.IdpSettingsInvalid) -> None:
        for name, errors in refused.errors.items():
            for error in errors:
                self.add_error(name if name in self.fields else None, str(error))


def _initial(idp: IdentityProvider) -> dict[str, Any]:
    return {
        "kind": idp.kind,
        "name_ja": idp.name_ja,
        "name_en": idp.name_en,
        "issuer": idp.app.settings.get("server_url", ""),
        "client_id": idp.app.client_id,
        "tenant_id": idp.tenant_id,
        "allowed_domains": "\n".join(idp.allowed_domains),
        "match_rule": idp.match_rule,
        "match_claim": idp.match_claim,
        "allow_students": idp.allow_students,
        "allow_staff": idp.allow_staff,
    }


def _keep_report(
    request: HttpRequest, idp: IdentityProvider, report: idp_admin.CheckReport
) -> None:
    """Keep a test's result for the next page of the list (its lines in the current words)."""
    request.session[CHECK_SESSION_KEY] = {
        "idp": idp.pk,
        "ok": report.ok,
        "lines": [str(line) for line in report.lines],
    }


def _kept_report(
    request: HttpRequest, idps: list[IdentityProvider]
) -> tuple[idp_admin.CheckReport | None, IdentityProvider | None]:
    """The kept result, once, when its IdP is one of this page's."""
    kept = request.session.pop(CHECK_SESSION_KEY, None)
    if not isinstance(kept, dict):
        return None, None
    tested = next((idp for idp in idps if idp.pk == kept.get("idp")), None)
    if tested is None:
        return None, None
    return idp_admin.CheckReport(ok=bool(kept.get("ok")), lines=list(kept.get("lines", []))), tested


def _page(request: HttpRequest, org: Org) -> HttpResponse:
    idps = list(idp_admin.idps_of(org))
    report, tested = _kept_report(request, idps)
    rows = [
        {
            "idp": idp,
            "redirect_uri": request.build_absolute_uri(idp_admin.callback_path(idp))
            if idp.kind in idp_admin.OIDC_KINDS
            else "",
        }
        for idp in idps
    ]
    failures = signin_log.recent_failures(idp_admin.idps_of(org), limit=RECENT_FAILURES)
    return render(
        request,
        "sso/admin/sign_in.html",
        {
            "org": org,
            "rows": rows,
            "failures": failures,
            "reason_words": dict(FailureReason.choices),
            "kind_words": dict(IdpKind.choices),
            "report": report,
            "tested": tested,
        },
    )


@login_required
@require_GET
def sign_in(request: HttpRequest, org_id: str) -> HttpResponse:
    return _page(request, _org(request, org_id))


@login_required
@require_http_methods(["GET", "POST"])
def add(request: HttpRequest, org_id: str) -> HttpResponse:
    org = _org(request, org_id)
    form = IdpForm(
        request.POST or None,
        initial={"kind": IdpKind.OIDC, "match_rule": MatchRule.USERNAME, "allow_students": True},
    )
    if request.method == "POST" and form.is_valid():
        try:
            idp = idp_admin.add_idp(acting_user=_acting(request), org=org, values=form.settings())
        except idp_admin.IdpSettingsInvalid as refused:
            form.add_service_errors(refused)
        else:
            messages.success(request, gettext("「%s」を追加しました。") % idp.name_ja)
            return redirect("portal:sign_in_idps", org.sourced_id)
    status = HTTPStatus.BAD_REQUEST if request.method == "POST" else HTTPStatus.OK
    return render(
        request, "sso/admin/idp_form.html", {"org": org, "form": form, "idp": None}, status=status
    )


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, org_id: str, pk: int) -> HttpResponse:
    org = _org(request, org_id)
    idp = _idp(org, pk)
    if idp.kind not in idp_admin.OIDC_KINDS:
        raise Http404  # SAML: its own page (sso.saml)
    form = IdpForm(request.POST or None, initial=_initial(idp))
    if request.method == "POST" and form.is_valid():
        try:
            changed = idp_admin.update_idp(
                acting_user=_acting(request), idp=idp, values=form.settings()
            )
        except idp_admin.IdpSettingsInvalid as refused:
            form.add_service_errors(refused)
            idp.refresh_from_db()
            idp.app.refresh_from_db()
        else:
            if changed:
                messages.success(request, gettext("「%s」を保存しました。") % idp.name_ja)
            return redirect("portal:sign_in_idps", org.sourced_id)
    status = HTTPStatus.BAD_REQUEST if request.method == "POST" else HTTPStatus.OK
    return render(
        request,
        "sso/admin/idp_form.html",
        {
            "org": org,
            "form": form,
            "idp": idp,
            "redirect_uri": request.build_absolute_uri(idp_admin.callback_path(idp)),
        },
        status=status,
    )


@login_required
@require_POST
def action(request: HttpRequest, org_id: str, pk: int, verb: str) -> HttpResponse:
    org = _org(request, org_id)
    idp = _idp(org, pk)
    acting = _acting(request)
    if verb == "check":
        if idp.kind == IdpKind.SAML:
            report = saml_admin.check_saml(acting_user=acting, idp=idp)
        else:
            report = idp_admin.check_configuration(acting_user=acting, idp=idp)
        _keep_report(request, idp, report)
        return redirect("portal:sign_in_idps", org.sourced_id)
    if verb not in ("enable", "disable"):
        raise Http404
    if idp_admin.set_enabled(acting_user=acting, idp=idp, enabled=verb == "enable"):
        words = (
            gettext("「%s」を有効にしました。")
            if verb == "enable"
            else gettext("「%s」を無効にしました。ボタンが消え、この方法ではログインできません。")
        )
        messages.success(request, words % idp.name_ja)
    return redirect("portal:sign_in_idps", org.sourced_id)
