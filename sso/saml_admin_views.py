"""The administrators' SAML pages: add a SAML sign-in from the IdP's metadata (a URL or a
file) and change one. Authorized like the other sign-in pages (``sso.admin_views``: anything
outside what the acting user administers is a 404); the rules are ``sso.saml_admin``'s."""

from __future__ import annotations

from http import HTTPStatus

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from roster.administration import NotAdministered
from roster.models import Org, User

from . import idp_admin, saml, saml_admin
from .models import IdentityProvider, IdpKind, MatchRule

MAX_METADATA_FILE = saml.METADATA_MAX_BYTES


class SamlForm(forms.Form):
    name_ja = forms.CharField(label=_("ボタンの表示名（日本語）"), max_length=80)
    name_en = forms.CharField(label=_("ボタンの表示名（英語）"), max_length=80, required=False)
    metadata_url = forms.CharField(
        label=_("IdP のメタデータの URL"),
        max_length=500,
        required=False,
        help_text=_("URL かファイルのどちらか。URL なら「設定をテスト」で取り直します。"),
        widget=forms.URLInput(attrs={"autocomplete": "off", "inputmode": "url"}),
    )
    metadata_file = forms.FileField(
        label=_("IdP のメタデータのファイル（XML）"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".xml,application/xml,text/xml"}),
    )
    match_rule = forms.ChoiceField(
        label=_("名簿との照合"), choices=MatchRule.choices, widget=forms.RadioSelect
    )
    match_claim = forms.CharField(
        label=_("照合に使う属性"),
        max_length=200,
        required=False,
        help_text=_("例: urn:oid:0.9.2342.19200300.100.1.1（uid: ユーザー名）。"),
    )
    allowed_domains = forms.CharField(
        label=_("許可するドメイン"),
        required=False,
        help_text=_("メールで照合するときのメールのドメイン。1行に1つ。"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    allow_students = forms.BooleanField(label=_("児童生徒がログインできる"), required=False)
    allow_staff = forms.BooleanField(label=_("教職員がログインできる"), required=False)

    def clean_metadata_file(self) -> bytes | None:
        upload = self.cleaned_data.get("metadata_file")
        if not upload:
            return None
        if upload.size > MAX_METADATA_FILE:
            raise forms.ValidationError(_("メタデータのファイルが大きすぎます（1 MiB まで）。"))
        return bytes(upload.read())

    def settings(self) -> saml_admin.SamlSettings:
        data = self.cleaned_data
        return saml_admin.SamlSettings(
            name_ja=data["name_ja"],
            name_en=data["name_en"],
            metadata_url=data["metadata_url"],
            metadata_file=data["metadata_file"],
            match_rule=data["match_rule"],
            match_claim=data["match_claim"],
            allowed_domains=idp_admin.normalised_domains(data["allowed_domains"]),
            allow_students=bool(data["allow_students"]),
            allow_staff=bool(data["allow_staff"]),
        )

    def add_service_errors(self, refused: idp_admin.IdpSettingsInvalid) -> None:
        for name, errors in refused.errors.items():
            for error in errors:
                self.add_error(name if name in self.fields else None, str(error))


def _acting(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101  (login_required)
    return user


def _org(request: HttpRequest, org_id: str) -> Org:
    try:
        return idp_admin.org_of(_acting(request), org_id)
    except NotAdministered:
        raise Http404 from None


def _sp_urls(request: HttpRequest, idp: IdentityProvider | None) -> dict[str, str]:
    """What the IdP's administrator registers: our entity id, ACS URL and metadata URL."""
    if idp is None:
        return {}
    slug = idp.app.client_id
    return {
        "entity_id": saml.sp_entity_id(slug),
        "acs_url": request.build_absolute_uri(reverse("saml_acs", args=[slug])),
        "metadata_url": request.build_absolute_uri(reverse("saml_metadata", args=[slug])),
    }


def _form_page(
    request: HttpRequest, org: Org, form: SamlForm, idp: IdentityProvider | None
) -> HttpResponse:
    status = HTTPStatus.BAD_REQUEST if request.method == "POST" else HTTPStatus.OK
    context = {"org": org, "form": form, "idp": idp, "sp": _sp_urls(request, idp)}
    return render(request, "sso/admin/saml_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def add(request: HttpRequest, org_id: str) -> HttpResponse:
    org = _org(request, org_id)
    form = SamlForm(
        request.POST or None,
        request.FILES or None,
        initial={"match_rule": MatchRule.USERNAME, "allow_students": True},
    )
    if request.method == "POST" and form.is_valid():
        try:
            idp = saml_admin.add_saml_idp(
                acting_user=_acting(request), org=org, values=form.settings()
            )
        except idp_admin.IdpSettingsInvalid as refused:
            form.add_service_errors(refused)
        else:
            messages.success(request, gettext("「%s」を追加しました。") % idp.name_ja)
            return redirect("portal:sign_in_saml", org.sourced_id, idp.pk)
    return _form_page(request, org, form, None)


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, org_id: str, pk: int) -> HttpResponse:
    org = _org(request, org_id)
    try:
        idp = idp_admin.idp_of(org, pk)
    except NotAdministered:
        raise Http404 from None
    if idp.kind != IdpKind.SAML:
        raise Http404
    initial = {
        "name_ja": idp.name_ja,
        "name_en": idp.name_en,
        "metadata_url": idp.app.settings.get("metadata_url", ""),
        "match_rule": idp.match_rule,
        "match_claim": idp.match_claim,
        "allowed_domains": "\n".join(idp.allowed_domains),
        "allow_students": idp.allow_students,
        "allow_staff": idp.allow_staff,
    }
    form = SamlForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            changed = saml_admin.update_saml_idp(
                acting_user=_acting(request), idp=idp, values=form.settings()
            )
        except idp_admin.IdpSettingsInvalid as refused:
            form.add_service_errors(refused)
            idp.refresh_from_db()
            idp.app.refresh_from_db()
        else:
            if changed:
                messages.success(request, gettext("「%s」を保存しました。") % idp.name_ja)
            return redirect("portal:sign_in_saml", org.sourced_id, idp.pk)
    return _form_page(request, org, form, idp)
