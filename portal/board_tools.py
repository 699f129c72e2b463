"""The tools pages of the administrators: a board's (``/school/board/<board>/tools``: review,
approve or reject registrations, deploy to the board or chosen schools) and a school's
(``/school/<school>/tools``: place a deployed tool for the school or a class, remove it).

Who administers what is ``roster.administration``'s rule, applied by ``tools_registry.approval``;
anything outside it answers 404, the same as a missing object. Views parse, authorize through
``_board``/``_school``/``_registration``, call the action and render; every change is a POST
with CSRF, followed by a redirect (a refusal shows the page again with the reason, 400/409).
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
from django.views.decorators.http import require_GET, require_POST

from lti_platform.protocol import constants as c
from roster import administration
from roster.administration import NotAdministered
from roster.models import Org, OrgType, SchoolClass, User
from tools_registry import approval, grants
from tools_registry.models import (
    ApprovalStatus,
    Deployment,
    PrivacyLevel,
    Registration,
    Service,
)

# What each service lets a tool do, in plain words.
SERVICE_WORDS: dict[str, Any] = {
    Service.AGS: _("成績を受け取ります・送ります（成績の送受信、AGS）"),
    Service.NRPS: _("クラスの名簿を見ます（名簿の参照、NRPS）"),
    Service.DEEP_LINKING: _(
        "先生が課題に使う教材をツールの中で選べます（教材の配信、Deep Linking）"
    ),
}
# What each grantable scope lets a tool do, in plain words.
SCOPE_WORDS: dict[str, Any] = {
    c.SCOPE_LINEITEM: _("成績の列（課題）を作る・変える・消す（AGS lineitem）"),
    c.SCOPE_LINEITEM_READONLY: _("成績の列（課題）を見る（AGS lineitem.readonly）"),
    c.SCOPE_RESULT_READONLY: _("クラスの成績を見る（AGS result.readonly）"),
    c.SCOPE_SCORE: _("成績を送る（AGS score）"),
    c.SCOPE_NRPS: _("クラスの名簿を見る（NRPS）"),
}
DEEP_LINKING_WORDS = SERVICE_WORDS[Service.DEEP_LINKING]
STATUS_WORDS: dict[str, Any] = {
    ApprovalStatus.PENDING: _("承認待ち"),
    ApprovalStatus.APPROVED: _("承認済み"),
    ApprovalStatus.REVIEW: _("再審査待ち（承認した範囲で使えます）"),
    ApprovalStatus.REJECTED: _("却下"),
}
PRIVACY_WORDS: dict[str, Any] = {
    PrivacyLevel.ID_ONLY: _("氏名もメールアドレスも送りません（IDのみ）"),
    PrivacyLevel.NAME: _("氏名を送ります"),
    PrivacyLevel.NAME_EMAIL: _("氏名とメールアドレスを送ります"),
}
CLAIM_WORDS: dict[str, Any] = {
    "name": _("氏名"),
    "given_name": _("名"),
    "family_name": _("姓"),
    "middle_name": _("ミドルネーム"),
    "nickname": _("ニックネーム"),
    "email": _("メールアドレス"),
}
AUDIENCE_CHOICES = [
    ("all", _("全員")),
    ("students", _("児童生徒")),
    ("staff", _("教職員")),
]


def _acting(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101  (login_required)
    return user


def _board(request: HttpRequest, board_id: str) -> Org:
    try:
        return approval.board_of(_acting(request), board_id)
    except NotAdministered:
        raise Http404 from None  # the same answer for missing and forbidden


def _registration(request: HttpRequest, board: Org, registration_id: int) -> Registration:
    try:
        return approval.registration_for_board(
            acting_user=_acting(request), board=board, pk=registration_id
        )
    except NotAdministered:
        raise Http404 from None


def _school(request: HttpRequest, school_id: str) -> Org:
    try:
        return administration.school_of(_acting(request), school_id)
    except NotAdministered:
        raise Http404 from None


# --- forms -----------------------------------------------------------------------------------


def _choice_field(form: forms.Form, name: str) -> forms.ChoiceField:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)  # noqa: S101  (declared below)
    return field


class ApproveForm(forms.Form):
    """The board's grant: a privacy level, the scopes and Deep Linking, each within what the
    tool asked for."""

    privacy_level = forms.ChoiceField(
        label=_("個人情報の送信"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("個人情報の送信を選んでください。"),
            "invalid_choice": _("ツールが求めていない個人情報は送れません。"),
        },
    )
    scopes = forms.MultipleChoiceField(
        label=_("使ってよいサービス"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("ツールが求めていないサービスは許可できません。")},
    )
    deep_linking = forms.BooleanField(label=DEEP_LINKING_WORDS, required=False)

    def __init__(self, *args: Any, asked: approval.Asked, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.asked = asked
        levels = approval.privacy_levels_up_to(asked.privacy_level)
        _choice_field(self, "privacy_level").choices = [(v, PRIVACY_WORDS[v]) for v in levels]
        _choice_field(self, "scopes").choices = [
            (x, SCOPE_WORDS[x]) for x in asked.grantable_scopes
        ]
        self.offers_deep_linking = Service.DEEP_LINKING in asked.services
        if not self.offers_deep_linking:
            del self.fields["deep_linking"]

    def grant(self) -> tuple[str, list[str], bool]:
        data = self.cleaned_data
        return data["privacy_level"], list(data["scopes"]), bool(data.get("deep_linking"))


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("却下の理由（提供者に表示します）"),
        max_length=approval.MAX_REASON,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": _("却下の理由を書いてください。"),
            "max_length": _("却下の理由は2000文字までです。"),
        },
    )


class DeployForm(forms.Form):
    WHERE = [("board", _("教育委員会のすべての学校")), ("schools", _("選んだ学校"))]
    where = forms.ChoiceField(
        label=_("配備先"),
        choices=WHERE,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("配備先を選んでください。"),
            "invalid_choice": _("配備先を選んでください。"),
        },
    )
    schools = forms.MultipleChoiceField(
        label=_("学校"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("この教育委員会の学校を選んでください。")},
    )
    # This board's overlay of the approval (at most what it allows). A post without the
    # privacy choice (an older page) deploys with the registration's grant (inherited).
    privacy_level = forms.ChoiceField(
        label=_("この配備で送る個人情報"),
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("承認された内容より多くの個人情報は送れません。")},
    )
    services = forms.MultipleChoiceField(
        label=_("この配備で使ってよいサービス"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("承認されていないサービスは許可できません。")},
    )

    def __init__(self, *args: Any, board: Org, decision: grants.Decision, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.board_schools = list(board.children.filter(type=OrgType.SCHOOL).order_by("name", "pk"))
        _choice_field(self, "schools").choices = [
            (str(s.sourced_id), s.name) for s in self.board_schools
        ]
        levels = approval.privacy_levels_up_to(decision.privacy_level)
        _choice_field(self, "privacy_level").choices = [(v, PRIVACY_WORDS[v]) for v in levels]
        _choice_field(self, "services").choices = [
            (s, SERVICE_WORDS[s]) for s in deployable_services(decision)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("where") == "schools" and not data.get("schools"):
            self.add_error("schools", _("配備する学校を選んでください。"))
        return data

    def chosen_schools(self) -> list[Org] | None:
        if self.cleaned_data["where"] == "board":
            return None
        chosen = set(self.cleaned_data["schools"])
        return [s for s in self.board_schools if str(s.sourced_id) in chosen]

    def overlay(self) -> tuple[str | None, list[str] | None]:
        """The privacy level and services chosen for this board's deployment; (None, None),
        the registration's, when the post has no privacy choice."""
        level = self.cleaned_data.get("privacy_level")
        if not level:
            return None, None
        return level, list(self.cleaned_data["services"])


def deployable_services(decision: grants.Decision) -> list[str]:
    """The services a board may grant its deployment (those of its decision), in ``Service``
    order."""
    allowed = decision.services
    return [s for s in Service.values if s in allowed]


def deploy_form_initial(decision: grants.Decision) -> dict[str, Any]:
    """The deploy form pre-filled with the board's grant."""
    return {
        "where": "board",
        "privacy_level": decision.privacy_level,
        "services": deployable_services(decision),
    }


def grant_words(grant: grants.Grant | grants.Decision) -> list[str]:
    """A grant in plain words: the personal data, then each scope and Deep Linking."""
    words = [str(PRIVACY_WORDS[grant.privacy_level])]
    words += [str(SCOPE_WORDS[x]) for x in grants.in_scope_order(grant.scopes)]
    if grant.deep_linking:
        words.append(str(DEEP_LINKING_WORDS))
    return words


class PlaceForm(forms.Form):
    deployment = forms.ChoiceField(
        label=_("ツール"),
        error_messages={
            "required": _("配置するツールを選んでください。"),
            "invalid_choice": _("配置するツールを選んでください。"),
        },
    )
    target = forms.ChoiceField(
        label=_("どこに"),
        required=False,
        error_messages={"invalid_choice": _("この学校のクラスを選んでください。")},
    )
    audience = forms.ChoiceField(
        label=_("だれに"),
        choices=AUDIENCE_CHOICES,
        error_messages={
            "required": _("だれに見せるかを選んでください。"),
            "invalid_choice": _("だれに見せるかを選んでください。"),
        },
    )

    def __init__(
        self,
        *args: Any,
        deployments: list[Deployment],
        classes: list[SchoolClass],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.deployments = {str(d.pk): d for d in deployments}
        self.classes = {str(k.sourced_id): k for k in classes}
        _choice_field(self, "deployment").choices = [
            (key, f"{d.registration.tool.name}（{d.org.name}）")
            for key, d in self.deployments.items()
        ]
        _choice_field(self, "target").choices = [("", _("学校の全クラス"))] + [
            (key, k.title) for key, k in self.classes.items()
        ]

    def chosen(self) -> tuple[Deployment, SchoolClass | None, str]:
        data = self.cleaned_data
        target = data.get("target") or ""
        return (
            self.deployments[data["deployment"]],
            self.classes[target] if target else None,
            data["audience"],
        )


# --- the board's pages -----------------------------------------------------------------------


@login_required
@require_GET
def tools(request: HttpRequest, board_id: str) -> HttpResponse:
    board = _board(request, board_id)
    acting = _acting(request)
    context = {
        "board": board,
        "pending": list(approval.pending_registrations(acting_user=acting, board=board)),
        "approved": approval.decided_registrations(
            acting_user=acting, board=board, status=ApprovalStatus.APPROVED
        ),
        "rejected": approval.decided_registrations(
            acting_user=acting, board=board, status=ApprovalStatus.REJECTED
        ),
    }
    return render(request, "portal/board/tools.html", context)


def _review_page(
    request: HttpRequest,
    board: Org,
    registration: Registration,
    *,
    approve_form: ApproveForm | None = None,
    reject_form: RejectForm | None = None,
    deploy_form: DeployForm | None = None,
    error: str = "",
    status: int = HTTPStatus.OK,
) -> HttpResponse:
    acting = _acting(request)
    asked = approval.asked(registration)
    decision = approval.decision_for_board(
        acting_user=acting, board=board, registration=registration
    )
    if approve_form is None:
        if decision.in_force:
            initial = {
                "privacy_level": decision.privacy_level,
                "scopes": grants.in_scope_order(decision.scopes),
                "deep_linking": decision.deep_linking,
            }
        else:
            initial = {
                "privacy_level": asked.privacy_level,
                "scopes": list(asked.grantable_scopes),
                "deep_linking": Service.DEEP_LINKING in asked.services,
            }
        approve_form = ApproveForm(initial=initial, asked=asked)
    deployments = approval.board_deployments(
        acting_user=acting, board=board, registration=registration
    )
    grants.preload_grants(deployments)
    context = {
        "board": board,
        "registration": registration,
        "tool": registration.tool,
        "decision": decision,
        "status_words": STATUS_WORDS[decision.status],
        "asked": asked,
        "asked_services": [SERVICE_WORDS[s] for s in asked.services],
        "asked_scopes": [SCOPE_WORDS[x] for x in asked.grantable_scopes],
        "asked_personal": [CLAIM_WORDS[x] for x in asked.claims if x in CLAIM_WORDS],
        "asked_privacy": PRIVACY_WORDS[asked.privacy_level],
        "granted": grant_words(decision) if decision.in_force else [],
        "contacts": registration.client_metadata.get("contacts", []),
        "approve_form": approve_form,
        "reject_form": reject_form or RejectForm(),
        "deploy_form": deploy_form
        or DeployForm(board=board, decision=decision, initial=deploy_form_initial(decision)),
        "deployments": [
            (d, grant_words(grant) if (grant := grants.deployment_grant(d)).approved else [])
            for d in deployments
        ],
        "error": error,
    }
    return render(request, "portal/board/review.html", context, status=status)


@login_required
@require_GET
def review(request: HttpRequest, board_id: str, registration_id: int) -> HttpResponse:
    board = _board(request, board_id)
    return _review_page(request, board, _registration(request, board, registration_id))


@login_required
@require_POST
def approve(request: HttpRequest, board_id: str, registration_id: int) -> HttpResponse:
    board = _board(request, board_id)
    registration = _registration(request, board, registration_id)
    form = ApproveForm(request.POST, asked=approval.asked(registration))
    if not form.is_valid():
        return _review_page(
            request, board, registration, approve_form=form, status=HTTPStatus.BAD_REQUEST
        )
    try:
        privacy_level, scopes, deep_linking = form.grant()
        approval.approve_registration(
            acting_user=_acting(request),
            registration=registration,
            board=board,
            privacy_level=privacy_level,
            scopes=scopes,
            deep_linking=deep_linking,
        )
    except approval.ApprovalError as e:
        return _review_page(
            request, board, registration, approve_form=form, error=str(e.message), status=e.status
        )
    messages.success(
        request, gettext("「%(name)s」を承認しました。") % {"name": registration.tool.name}
    )
    return redirect("portal:board_tool", board.sourced_id, registration.pk)


@login_required
@require_POST
def reject(request: HttpRequest, board_id: str, registration_id: int) -> HttpResponse:
    board = _board(request, board_id)
    registration = _registration(request, board, registration_id)
    form = RejectForm(request.POST)
    if not form.is_valid():
        return _review_page(
            request, board, registration, reject_form=form, status=HTTPStatus.BAD_REQUEST
        )
    try:
        approval.reject_registration(
            acting_user=_acting(request),
            registration=registration,
            board=board,
            reason=form.cleaned_data["reason"],
        )
    except approval.ApprovalError as e:
        return _review_page(
            request, board, registration, reject_form=form, error=str(e.message), status=e.status
        )
    messages.success(
        request, gettext("「%(name)s」を却下しました。") % {"name": registration.tool.name}
    )
    return redirect("portal:board_tools", board.sourced_id)


@login_required
@require_POST
def deploy(request: HttpRequest, board_id: str, registration_id: int) -> HttpResponse:
    board = _board(request, board_id)
    registration = _registration(request, board, registration_id)
    decision = approval.decision_for_board(
        acting_user=_acting(request), board=board, registration=registration
    )
    form = DeployForm(request.POST, board=board, decision=decision)
    if not form.is_valid():
        return _review_page(
            request, board, registration, deploy_form=form, status=HTTPStatus.BAD_REQUEST
        )
    privacy_level, services = form.overlay()
    try:
        approval.deploy(
            acting_user=_acting(request),
            registration=registration,
            board=board,
            schools=form.chosen_schools(),
            privacy_level=privacy_level,
            granted_services=services,
        )
    except NotAdministered:
        raise Http404 from None
    except approval.ApprovalError as e:
        return _review_page(
            request, board, registration, deploy_form=form, error=str(e.message), status=e.status
        )
    messages.success(
        request, gettext("「%(name)s」を配備しました。") % {"name": registration.tool.name}
    )
    return redirect("portal:board_tool", board.sourced_id, registration.pk)


# --- the school's page -----------------------------------------------------------------------


def _school_page(
    request: HttpRequest,
    school: Org,
    *,
    form: PlaceForm | None = None,
    error: str = "",
    status: int = HTTPStatus.OK,
) -> HttpResponse:
    acting = _acting(request)
    context = {
        "school": school,
        "placements": approval.placements_in_school(acting_user=acting, school=school),
        "form": form or _place_form(request, school),
        "error": error,
    }
    return render(request, "portal/board/school_tools.html", context, status=status)


def _place_form(request: HttpRequest, school: Org, data: Any = None) -> PlaceForm:
    deployments = approval.deployments_for_school(acting_user=_acting(request), school=school)
    classes = list(SchoolClass.objects.filter(school=school).order_by("title", "pk"))
    return PlaceForm(data, deployments=deployments, classes=classes, initial={"audience": "all"})


@login_required
@require_GET
def school_tools(request: HttpRequest, school_id: str) -> HttpResponse:
    return _school_page(request, _school(request, school_id))


@login_required
@require_POST
def place(request: HttpRequest, school_id: str) -> HttpResponse:
    school = _school(request, school_id)
    form = _place_form(request, school, request.POST)
    if not form.is_valid():
        return _school_page(request, school, form=form, status=HTTPStatus.BAD_REQUEST)
    deployment, school_class, audience = form.chosen()
    try:
        placement = approval.place(
            acting_user=_acting(request),
            deployment=deployment,
            school=school,
            school_class=school_class,
            audience=audience,
        )
    except NotAdministered:
        raise Http404 from None
    except approval.ApprovalError as e:
        return _school_page(request, school, form=form, error=str(e.message), status=e.status)
    messages.success(request, gettext("「%(name)s」を配置しました。") % {"name": placement.title})
    return redirect("portal:school_tools", school.sourced_id)


@login_required
@require_POST
def unplace(request: HttpRequest, school_id: str, placement_id: int) -> HttpResponse:
    school = _school(request, school_id)
    try:
        placement = approval.placement_in_school(
            acting_user=_acting(request), school=school, pk=placement_id
        )
        approval.unplace(acting_user=_acting(request), placement=placement)
    except NotAdministered:
        raise Http404 from None
    messages.success(
        request, gettext("「%(name)s」の配置をやめました。") % {"name": placement.title}
    )
    return redirect("portal:school_tools", school.sourced_id)
