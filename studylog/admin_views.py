"""The board administrator's study-log page (``/school/board/<board>/study-log``): the board's
LRSs with their backlog, lag and dead letters, and the tools' LRS credentials.

Views parse, authorize through ``_board``/``_lrs`` (anything outside the acting user's boards
answers 404, the same as a missing one), call ``studylog.services`` and render. Every change is
a POST with CSRF; after one the page is shown again by a redirect, except a new credential,
whose secret is shown once on the answer itself.
"""

from __future__ import annotations

import datetime
from http import HTTPStatus
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from roster.administration import NotAdministered
from roster.models import Org, User

from . import services
from .models import LrsEndpoint, XapiVersion


def _acting(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101  (login_required)
    return user


def _board(request: HttpRequest, board_id: str) -> Org:
    try:
        return services.board_of(_acting(request), board_id)
    except NotAdministered:
        raise Http404 from None  # the same answer for missing and forbidden


def _lrs(board: Org, lrs_id: int) -> LrsEndpoint:
    try:
        return services.lrs_of(board, lrs_id)
    except NotAdministered:
        raise Http404 from None


def duration_words(value: datetime.timedelta | None) -> str:
    """An age in words: 「45秒」「3分」「2時間」「5日」 (rounded down); "" for None."""
    if value is None:
        return ""
    seconds = int(value.total_seconds())
    if seconds < 60:
        return ngettext("%(n)d秒", "%(n)d秒", seconds) % {"n": seconds}
    if seconds < 3600:
        n = seconds // 60
        return ngettext("%(n)d分", "%(n)d分", n) % {"n": n}
    if seconds < 86400:
        n = seconds // 3600
        return ngettext("%(n)d時間", "%(n)d時間", n) % {"n": n}
    n = seconds // 86400
    return ngettext("%(n)d日", "%(n)d日", n) % {"n": n}


class LrsForm(forms.Form):
    """The LRS settings; the rules (URL, ranges) are ``services``' and come back as errors."""

    name = forms.CharField(label=_("名称"), max_length=200)
    url = forms.CharField(
        label=_("xAPI エンドポイント（URL）"),
        max_length=500,
        help_text=_("例: https://lrs.example.jp/xapi/ （statements はこの下に送ります）"),
        widget=forms.URLInput(attrs={"autocomplete": "off", "inputmode": "url"}),
    )
    username = forms.CharField(
        label=_("ユーザー名（Basic 認証）"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    password = forms.CharField(
        label=_("パスワード（Basic 認証）"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    xapi_version = forms.ChoiceField(label=_("xAPI バージョン"), choices=XapiVersion.choices)
    batch_size = forms.IntegerField(
        label=_("一度に送る件数"), help_text=_("1〜1000"), widget=forms.NumberInput()
    )
    connect_timeout = forms.FloatField(
        label=_("接続タイムアウト（秒）"), help_text=_("60秒まで"), widget=forms.NumberInput()
    )
    read_timeout = forms.FloatField(
        label=_("応答タイムアウト（秒）"), help_text=_("120秒まで"), widget=forms.NumberInput()
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["password"].help_text = (
            _("空欄なら今のパスワードのままです。保存したパスワードは表示しません。")
            if editing
            else _("保存したパスワードはあとから表示しません。")
        )
        for name in ("batch_size", "connect_timeout", "read_timeout"):
            self.fields[name].widget.attrs["step"] = "1" if name == "batch_size" else "any"

    @classmethod
    def of(cls, lrs: LrsEndpoint) -> LrsForm:
        initial = {
            name: getattr(lrs, name)
            for name in (
                "name",
                "url",
                "username",
                "xapi_version",
                "batch_size",
                "connect_timeout",
                "read_timeout",
            )
        }
        return cls(initial=initial, editing=True)

    @classmethod
    def blank(cls) -> LrsForm:
        defaults = services.LrsSettings(name="", url="")
        return cls(
            initial={
                "xapi_version": defaults.xapi_version,
                "batch_size": defaults.batch_size,
                "connect_timeout": defaults.connect_timeout,
                "read_timeout": defaults.read_timeout,
            }
        )

    def values(self) -> services.LrsSettings:
        data = self.cleaned_data
        return services.LrsSettings(
            name=data["name"],
            url=data["url"],
            username=data["username"],
            password=data["password"] or None,
            xapi_version=data["xapi_version"],
            batch_size=data["batch_size"],
            connect_timeout=data["connect_timeout"],
            read_timeout=data["read_timeout"],
        )

    def add_service_errors(self, error: services.LrsSettingsInvalid) -> None:
        for name, reasons in error.errors.items():
            for reason in reasons:
                self.add_error(name if name in self.fields else None, str(reason))


class HistoryForm(forms.Form):
    """Send an LRS the board's records from a day on (an LRS added later has none before)."""

    since = forms.DateField(
        label=_("この日以降の記録を送る"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": _("日付を入力してください。"),
            "invalid": _("日付を入力してください。"),
        },
    )

    def since_moment(self) -> datetime.datetime:
        """The start of the chosen day in the portal's time zone (Asia/Tokyo)."""
        day: datetime.date = self.cleaned_data["since"]
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _page(
    request: HttpRequest,
    board: Org,
    *,
    form: LrsForm | None = None,
    error: str = "",
    status: int = HTTPStatus.OK,
) -> HttpResponse:
    acting = _acting(request)
    statuses = services.lrs_statuses(acting_user=acting, board=board)
    rows = [
        {
            "status": s,
            "lag": duration_words(s.lag),
            "dead_letters": services.dead_letters(acting_user=acting, lrs=s.lrs) if s.dead else [],
        }
        for s in statuses
    ]
    context = {
        "board": board,
        "rows": rows,
        "tools": services.tool_credentials(acting_user=acting, board=board),
        "form": form or LrsForm.blank(),
        "error": error,
        "dead_letters_shown": services.DEAD_LETTERS_SHOWN,
    }
    return render(request, "studylog/admin/study_log.html", context, status=status)


@login_required
@require_GET
def study_log(request: HttpRequest, board_id: str) -> HttpResponse:
    return _page(request, _board(request, board_id))


@login_required
@require_POST
def add_lrs(request: HttpRequest, board_id: str) -> HttpResponse:
    board = _board(request, board_id)
    form = LrsForm(request.POST)
    if form.is_valid():
        try:
            lrs = services.add_lrs(acting_user=_acting(request), board=board, values=form.values())
        except services.LrsSettingsInvalid as e:
            form.add_service_errors(e)
        else:
            messages.success(
                request, gettext("LRS「%(name)s」を追加しました。") % {"name": lrs.name}
            )
            return redirect("portal:study_log", board.sourced_id)
    return _page(request, board, form=form, status=HTTPStatus.BAD_REQUEST)


def _edit_page(
    request: HttpRequest, board: Org, lrs: LrsEndpoint, form: LrsForm, status: int
) -> HttpResponse:
    context = {"board": board, "lrs": lrs, "form": form}
    return render(request, "studylog/admin/lrs_edit.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def edit_lrs(request: HttpRequest, board_id: str, lrs_id: int) -> HttpResponse:
    board = _board(request, board_id)
    lrs = _lrs(board, lrs_id)
    if request.method == "GET":
        return _edit_page(request, board, lrs, LrsForm.of(lrs), HTTPStatus.OK)
    form = LrsForm(request.POST, editing=True)
    if form.is_valid():
        try:
            services.update_lrs(acting_user=_acting(request), lrs=lrs, values=form.values())
        except services.LrsSettingsInvalid as e:
            form.add_service_errors(e)
        else:
            messages.success(
                request, gettext("LRS「%(name)s」を保存しました。") % {"name": lrs.name}
            )
            return redirect("portal:study_log", board.sourced_id)
    lrs.refresh_from_db()
    return _edit_page(request, board, lrs, form, HTTPStatus.BAD_REQUEST)


@login_required
@require_POST
def lrs_action(request: HttpRequest, board_id: str, lrs_id: int, action: str) -> HttpResponse:
    """``replay`` (``forwarding`` ids, or ``all``), ``resume``, ``deactivate``, ``activate``,
    ``history`` (``since``, a date)."""
    board = _board(request, board_id)
    lrs = _lrs(board, lrs_id)
    acting = _acting(request)
    if action == "replay":
        ids: list[int] | None = None
        if request.POST.get("all") != "1":
            try:
                ids = [int(v) for v in request.POST.getlist("forwarding")]
            except ValueError:
                ids = []
            if not ids:
                error = gettext("送り直す記録を選んでください。")
                return _page(request, board, error=error, status=HTTPStatus.BAD_REQUEST)
        count = services.replay_dead_letters(acting_user=acting, lrs=lrs, forwarding_ids=ids)
        messages.success(
            request,
            ngettext("%(n)d件を送信待ちに戻しました。", "%(n)d件を送信待ちに戻しました。", count)
            % {"n": count},
        )
    elif action == "resume":
        services.resume_lrs(acting_user=acting, lrs=lrs)
        messages.success(
            request, gettext("LRS「%(name)s」への送信を再開します。") % {"name": lrs.name}
        )
    elif action == "history":
        history = HistoryForm(request.POST)
        if not history.is_valid():
            error = gettext("日付を入力してください。")
            return _page(request, board, error=error, status=HTTPStatus.BAD_REQUEST)
        count = services.send_history(acting_user=acting, lrs=lrs, since=history.since_moment())
        messages.success(
            request,
            ngettext(
                "LRS「%(name)s」に送る記録を%(n)d件追加しました。",
                "LRS「%(name)s」に送る記録を%(n)d件追加しました。",
                count,
            )
            % {"name": lrs.name, "n": count},
        )
    elif action in ("deactivate", "activate"):
        services.set_lrs_active(acting_user=acting, lrs=lrs, active=action == "activate")
        text = (
            gettext("LRS「%(name)s」への送信を有効にしました。")
            if lrs.active
            else gettext("LRS「%(name)s」への送信を止めました。")
        )
        messages.success(request, text % {"name": lrs.name})
    else:
        raise Http404
    return redirect("portal:study_log", board.sourced_id)


@never_cache  # the secret is shown once and never kept by a browser
@login_required
@require_POST
def issue_credential(request: HttpRequest, board_id: str) -> HttpResponse:
    board = _board(request, board_id)
    try:
        registration = services.tool_of(board, int(request.POST.get("registration", "")))
    except (ValueError, NotAdministered):
        error = gettext("認証情報を発行するツールを選んでください。")
        return _page(request, board, error=error, status=HTTPStatus.BAD_REQUEST)
    credential, secret = services.issue_tool_credential(
        acting_user=_acting(request),
        board=board,
        registration=registration,
        label=request.POST.get("label", ""),
    )
    context = {
        "board": board,
        "credential": credential,
        "registration": registration,
        "secret": secret,
        "endpoint": settings.LTI_ISSUER.rstrip("/") + "/xapi/",
    }
    return render(request, "studylog/admin/credential_issued.html", context)


@login_required
@require_POST
def deactivate_credential(request: HttpRequest, board_id: str, credential_id: int) -> HttpResponse:
    board = _board(request, board_id)
    try:
        credential = services.credential_of(board, credential_id)
    except NotAdministered:
        raise Http404 from None
    services.deactivate_tool_credential(
        acting_user=_acting(request), board=board, credential=credential
    )
    messages.success(
        request, gettext("認証情報 %(key)s を無効にしました。") % {"key": credential.key}
    )
    return redirect("portal:study_log", board.sourced_id)
