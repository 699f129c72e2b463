"""The vendor console (``/vendor/…``): a vendor account's own tools — their status, where they
are deployed and placed, a registration made by hand (new tool or edit), the values a tool is
configured with, a Dynamic Registration started for a tool, and the refresh of its keys.

The rules are ``lti_platform.vendor_tools``' (the Dynamic Registration validation, shared with
``/lti/register`` and ``register_tool``); anything that is not the acting vendor's answers 404,
the same as a missing tool, and so does the whole console for an account without the vendor
role. Every change is a POST with CSRF.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from lti_platform import vendor_tools
from lti_platform.protocol.registration import FieldError
from roster.models import User
from tools_registry.errors import ToolKeyError
from tools_registry.models import PrivacyLevel, Service, Tool
from tools_registry.tool_keys import JwksUnreachable

from . import readings
from .readings import reading_form_field


def _vendor(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101  (login_required)
    if not vendor_tools.is_vendor(user):
        raise Http404  # the console does not exist for anyone else
    return user


def _tool(request: HttpRequest, slug: str) -> Tool:
    try:
        return vendor_tools.vendor_tool(_vendor(request), slug)
    except vendor_tools.NotVendorTool:
        raise Http404 from None  # the same answer for missing and forbidden


SERVICE_CHOICES = [
    (Service.AGS, _("成績を送ります（AGS）")),
    (Service.NRPS, _("クラスの名簿を読みます（NRPS）")),
]
PRIVACY_CHOICES = [
    (PrivacyLevel.ID_ONLY, _("IDだけを受け取ります（氏名は受け取りません）")),
    (PrivacyLevel.NAME, _("氏名を受け取ります")),
    (PrivacyLevel.NAME_EMAIL, _("氏名とメールアドレスを受け取ります")),
]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


NAME_KANA_LABEL = _("ツールの名前のよみがな")


class ToolForm(forms.Form):
    """The registration made by hand. Which values are required and what they must be is the
    Dynamic Registration's rule (``vendor_tools.check_tool_values``): its errors come back to
    the field they name."""

    name = forms.CharField(label=_("ツールの名前（client_name・必須）"), required=False)
    # Not a registration value: the portal's own (the furigana of the name on the tiles).
    name_kana = reading_form_field(NAME_KANA_LABEL)
    description = forms.CharField(
        label=_("説明"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    domain = forms.CharField(
        label=_("ツールのドメイン（domain）"),
        required=False,
        help_text=_(
            "例: tool.example.jp。空欄ならログイン開始URLのホストです。"
            "すべての URL はこのドメイン（またはそのサブドメイン）の中になければなりません。"
        ),
    )
    initiate_login_uri = forms.CharField(
        label=_("ログイン開始URL（initiate_login_uri・必須）"),
        required=False,
        widget=forms.URLInput(attrs={"inputmode": "url", "autocomplete": "off"}),
    )
    redirect_uris = forms.CharField(
        label=_("リダイレクトURI（redirect_uris・必須）"),
        required=False,
        help_text=_("1行に1つ。https（http は localhost だけ）。"),
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
    )
    target_link_uri = forms.CharField(
        label=_("起動先URL（target_link_uri・必須）"),
        required=False,
        widget=forms.URLInput(attrs={"inputmode": "url", "autocomplete": "off"}),
    )
    deep_linking_url = forms.CharField(
        label=_("Deep Linking URL（教材の配信・任意）"),
        required=False,
        help_text=_("入力すると、先生がこのツールから課題を出せるようになります（承認のあと）。"),
        widget=forms.URLInput(attrs={"inputmode": "url", "autocomplete": "off"}),
    )
    jwks_url = forms.CharField(
        label=_("JWKS URL（jwks_uri）"),
        required=False,
        help_text=_("JWKS URL か公開鍵のどちらか一方を入力してください。"),
        widget=forms.URLInput(attrs={"inputmode": "url", "autocomplete": "off"}),
    )
    public_key = forms.CharField(
        label=_("公開鍵（JWK または PEM）"),
        required=False,
        help_text=_("RSA 2048 ビット以上の公開鍵。秘密鍵は貼り付けないでください。"),
        widget=forms.Textarea(attrs={"rows": 5, "autocomplete": "off", "spellcheck": "false"}),
    )
    custom_parameters = forms.CharField(
        label=_("カスタムパラメータ"),
        required=False,
        help_text=_("1行に1つ、キー=値（例: course=$Context.id）。"),
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off", "spellcheck": "false"}),
    )
    services = forms.MultipleChoiceField(
        label=_("使うサービス"),
        required=False,
        choices=SERVICE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
    )
    privacy_level = forms.ChoiceField(
        label=_("受け取る個人情報"),
        choices=PRIVACY_CHOICES,
        initial=PrivacyLevel.ID_ONLY,
        widget=forms.RadioSelect,
        error_messages={"required": _("受け取る個人情報を選んでください。")},
    )

    def __init__(self, *args: Any, tool: Tool | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        if tool is not None:
            self.fields["name_kana"] = reading_form_field(NAME_KANA_LABEL, tool)

    @classmethod
    def of(cls, values: vendor_tools.ToolValues, tool: Tool) -> ToolForm:
        """The form of ``tool``'s registration ``values``, with its name's current reading."""
        initial = {
            "name": values.name,
            "description": values.description,
            "domain": values.domain,
            "initiate_login_uri": values.initiate_login_uri,
            "redirect_uris": "\n".join(values.redirect_uris),
            "target_link_uri": values.target_link_uri,
            "deep_linking_url": values.deep_linking_url,
            "jwks_url": values.jwks_url,
            "public_key": values.public_key,
            "custom_parameters": "\n".join(f"{k}={v}" for k, v in values.custom_parameters.items()),
            "services": list(values.services),
            "privacy_level": values.privacy_level,
        }
        return cls(initial=initial, tool=tool)

    def clean_custom_parameters(self) -> dict[str, str]:
        custom: dict[str, str] = {}
        for line in _lines(self.cleaned_data["custom_parameters"]):
            key, sep, value = line.partition("=")
            if not sep or not key.strip():
                raise forms.ValidationError(
                    gettext("「%(line)s」: キー=値 の形で書いてください。") % {"line": line}
                )
            custom[key.strip()] = value.strip()
        return custom

    def values(self) -> vendor_tools.ToolValues:
        data = self.cleaned_data
        return vendor_tools.ToolValues(
            name=data["name"],
            description=data["description"],
            domain=data["domain"],
            initiate_login_uri=data["initiate_login_uri"],
            redirect_uris=tuple(_lines(data["redirect_uris"])),
            target_link_uri=data["target_link_uri"],
            deep_linking_url=data["deep_linking_url"],
            jwks_url=data["jwks_url"],
            public_key=data["public_key"],
            custom_parameters=data["custom_parameters"],
            services=tuple(data["services"]),
            privacy_level=data["privacy_level"],
        )


class StartRegistrationForm(forms.Form):
    tool_url = forms.CharField(
        label=_("ツールの登録URL（Dynamic Registration の開始URL）"),
        widget=forms.URLInput(attrs={"inputmode": "url", "autocomplete": "off"}),
        error_messages={"required": _("ツールの登録URLを入力してください。")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


def _home_page(
    request: HttpRequest,
    *,
    start_form: StartRegistrationForm | None = None,
    started_url: str = "",
    status: int = HTTPStatus.OK,
) -> HttpResponse:
    context = {
        "tools": vendor_tools.vendor_tools(_vendor(request)),
        "start_form": start_form or StartRegistrationForm(),
        "started_url": started_url,
    }
    return render(request, "portal/vendor/home.html", context, status=status)


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return _home_page(request)


@never_cache  # the registration URL carries a single-use token
@login_required
@require_POST
def start_new_registration(request: HttpRequest) -> HttpResponse:
    """A Dynamic Registration that registers a new tool of the vendor's (pending approval)."""
    vendor = _vendor(request)
    form = StartRegistrationForm(request.POST)
    if form.is_valid():
        try:
            started = vendor_tools.start_tool_registration(
                acting_user=vendor, tool=None, tool_url=form.cleaned_data["tool_url"]
            )
        except FieldError as e:
            form.add_error("tool_url", str(e))
        else:
            return _home_page(request, started_url=started.url)
    return _home_page(request, start_form=form, status=HTTPStatus.BAD_REQUEST)


def _form_page(
    request: HttpRequest, form: ToolForm, tool: Tool | None, status: int = HTTPStatus.OK
) -> HttpResponse:
    return render(
        request, "portal/vendor/tool_form.html", {"form": form, "tool": tool}, status=status
    )


def _save(request: HttpRequest, tool: Tool | None) -> HttpResponse:
    form = ToolForm(request.POST, tool=tool)
    if form.is_valid():
        try:
            registration = readings.save_vendor_tool(
                acting_user=_vendor(request),
                values=form.values(),
                tool=tool,
                reading=form.cleaned_data["name_kana"],
            )
        except vendor_tools.NotVendorTool:
            raise Http404 from None
        except vendor_tools.ToolValuesInvalid as e:
            form.add_error(e.field or None, e.description)
        else:
            text = (
                gettext("「%(name)s」を登録しました。教育委員会の承認を待っています。")
                if tool is None
                else gettext("「%(name)s」を保存しました。")
            )
            messages.success(request, text % {"name": registration.tool.name})
            return redirect("portal:vendor_tool", registration.tool.slug)
    return _form_page(request, form, tool, HTTPStatus.BAD_REQUEST)


@login_required
@require_http_methods(["GET", "POST"])
def new_tool(request: HttpRequest) -> HttpResponse:
    _vendor(request)
    if request.method == "POST":
        return _save(request, None)
    return _form_page(request, ToolForm(), None)


@login_required
@require_http_methods(["GET", "POST"])
def edit_tool(request: HttpRequest, slug: str) -> HttpResponse:
    tool = _tool(request, slug)
    if request.method == "POST":
        return _save(request, tool)
    values = vendor_tools.tool_values(tool.registration)
    return _form_page(request, ToolForm.of(values, tool), tool)


def _tool_page(
    request: HttpRequest,
    tool: Tool,
    *,
    start_form: StartRegistrationForm | None = None,
    started_url: str = "",
    error: str = "",
    status: int = HTTPStatus.OK,
) -> HttpResponse:
    context = {
        "row": vendor_tools.vendor_tool_row(tool),
        "sheet": vendor_tools.tool_sheet(tool.registration),
        "start_form": start_form or StartRegistrationForm(),
        "started_url": started_url,
        "error": error,
    }
    return render(request, "portal/vendor/tool.html", context, status=status)


@login_required
@require_GET
def tool_page(request: HttpRequest, slug: str) -> HttpResponse:
    return _tool_page(request, _tool(request, slug))


@never_cache  # the registration URL carries a single-use token
@login_required
@require_POST
def start_registration(request: HttpRequest, slug: str) -> HttpResponse:
    tool = _tool(request, slug)
    form = StartRegistrationForm(request.POST)
    if form.is_valid():
        try:
            started = vendor_tools.start_tool_registration(
                acting_user=_vendor(request), tool=tool, tool_url=form.cleaned_data["tool_url"]
            )
        except FieldError as e:
            form.add_error("tool_url", str(e))
        else:
            return _tool_page(request, tool, started_url=started.url)
    return _tool_page(request, tool, start_form=form, status=HTTPStatus.BAD_REQUEST)


@login_required
@require_POST
def refresh_keys(request: HttpRequest, slug: str) -> HttpResponse:
    tool = _tool(request, slug)
    try:
        kids = vendor_tools.refresh_vendor_tool_keys(acting_user=_vendor(request), tool=tool)
    except JwksUnreachable as e:
        error = gettext("鍵を取得できませんでした: %(reason)s") % {"reason": e.reason}
        return _tool_page(request, tool, error=error, status=HTTPStatus.BAD_GATEWAY)
    except ToolKeyError:
        error = gettext(
            "このツールの鍵は登録した公開鍵です。JWKS URL がないので再取得はありません。"
        )
        return _tool_page(request, tool, error=error, status=HTTPStatus.BAD_REQUEST)
    messages.success(
        request,
        ngettext(
            "鍵を再取得しました（%(n)d個: %(kids)s）。",
            "鍵を再取得しました（%(n)d個: %(kids)s）。",
            len(kids),
        )
        % {"n": len(kids), "kids": "、".join(k or gettext("kid なし") for k in kids)},
    )
    return redirect("portal:vendor_tool", tool.slug)
