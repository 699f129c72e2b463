"""The school administration pages (``/school/…``): a school administrator's own school, a board
administrator's schools — their people, classes and placed tools, a child's new password, and
the readings (よみがな) of the school's name and its classes' titles.

Who administers what is ``roster.administration``'s rule; anything outside it answers 404, the
same as a missing object. Views parse, authorize through ``_school``/``_member``, call the
action and render.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from roster import administration
from roster.models import Org, OrgType, SchoolClass, User
from sso import throttling
from tools_registry import visibility
from tools_registry.models import Placement

from .readings import give_school_readings, reading_form_field


def _acting(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101  (login_required)
    return user


def _school(request: HttpRequest, school_id: str) -> Org:
    try:
        return administration.school_of(_acting(request), school_id)
    except administration.NotAdministered:
        raise Http404 from None  # the same answer for missing and forbidden


def _member(school: Org, user_id: str) -> User:
    try:
        return administration.member_of(school, user_id)
    except administration.NotAdministered:
        raise Http404 from None


def placed_tools(classes: list[SchoolClass]) -> list[Placement]:
    """The placements in any of the school's classes (for the school or one class), once each,
    in display order."""
    if not classes:
        return []
    candidates = visibility.candidate_placements(classes).select_related("school_class")
    return [p for p in candidates if any(visibility.placed_in(p, k) for k in classes)]


class PasswordForm(forms.Form):
    """Generate a password, or set the one typed twice."""

    MODES = [("generate", _("自動で作る")), ("choose", _("自分で決める"))]
    mode = forms.ChoiceField(
        choices=MODES,
        error_messages={
            "required": _("パスワードの作り方（自動か、自分で決めるか）を選んでください。"),
            "invalid_choice": _("パスワードの作り方（自動か、自分で決めるか）を選んでください。"),
        },
    )
    password1 = forms.CharField(label=_("新しいパスワード"), required=False, strip=False)
    password2 = forms.CharField(label=_("もう一度"), required=False, strip=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("mode") == "choose":
            if not data.get("password1"):
                self.add_error("password1", _("新しいパスワードを入力してください。"))
            elif data.get("password1") != data.get("password2"):
                self.add_error("password2", _("2つのパスワードが同じではありません。"))
        return data

    def chosen_password(self) -> str | None:
        """The typed password, or None to generate one."""
        if self.cleaned_data["mode"] == "choose":
            return str(self.cleaned_data["password1"])
        return None


class ReadingsForm(forms.Form):
    """The readings of a school's name (``school``) and of each class's title (``class-<pk>``)."""

    def __init__(self, school: Org, classes: list[SchoolClass], *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.classes = classes
        self.fields["school"] = reading_form_field(
            gettext("%(name)s のよみがな") % {"name": school.name}, school
        )
        for k in classes:
            self.fields[f"class-{k.pk}"] = reading_form_field(
                gettext("%(name)s のよみがな") % {"name": k.title}, k
            )

    def class_fields(self) -> list[forms.BoundField]:
        return [self[f"class-{k.pk}"] for k in self.classes]

    def class_readings(self) -> dict[int, str]:
        return {k.pk: self.cleaned_data[f"class-{k.pk}"] for k in self.classes}


def _readings_page(
    request: HttpRequest, org: Org, form: ReadingsForm, status: int = HTTPStatus.OK
) -> HttpResponse:
    context = {"school": org, "form": form}
    return render(request, "portal/school/readings.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def readings(request: HttpRequest, school_id: str) -> HttpResponse:
    """The readings of the school's name and its classes' titles (furigana for P1–P3)."""
    org = _school(request, school_id)
    classes = [row.school_class for row in administration.classes_of(_acting(request), org)]
    if request.method != "POST":
        return _readings_page(request, org, ReadingsForm(org, classes))
    form = ReadingsForm(org, classes, request.POST)
    if form.is_valid():
        try:
            changed = give_school_readings(
                acting_user=_acting(request),
                school=org,
                school_reading=form.cleaned_data["school"],
                class_readings=form.class_readings(),
            )
        except administration.NotAdministered:
            raise Http404 from None
        except ValidationError as e:  # checked by the form already; the action checks again
            form.add_error(None, e)
        else:
            messages.success(
                request,
                ngettext(
                    "よみがなを保存しました（%(n)d件）。",
                    "よみがなを保存しました（%(n)d件）。",
                    changed,
                )
                % {"n": changed},
            )
            return redirect("portal:school", org.sourced_id)
    return _readings_page(request, org, form, HTTPStatus.BAD_REQUEST)


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    schools = list(administration.administered_schools(_acting(request)))
    boards = list(administration.administered_orgs(_acting(request)).filter(type=OrgType.DISTRICT))
    if not schools and not boards:
        raise Http404
    if len(schools) == 1 and not boards:
        return redirect("portal:school", schools[0].sourced_id)
    return render(request, "portal/school/index.html", {"schools": schools, "boards": boards})


@login_required
@require_GET
def school(request: HttpRequest, school_id: str) -> HttpResponse:
    org = _school(request, school_id)
    classes = administration.classes_of(_acting(request), org)
    context = {
        "school": org,
        "classes": classes,
        "tools": placed_tools([c.school_class for c in classes]),
        "several_schools": administration.administered_schools(_acting(request)).count() > 1,
    }
    return render(request, "portal/school/school.html", context)


@login_required
@require_GET
def people(request: HttpRequest, school_id: str) -> HttpResponse:
    org = _school(request, school_id)
    rows = administration.people_of(_acting(request), org)
    return render(request, "portal/school/people.html", {"school": org, "people": rows})


def _person_page(
    request: HttpRequest,
    org: Org,
    person: User,
    *,
    form: PasswordForm | None = None,
    error: str = "",
    status: int = HTTPStatus.OK,
) -> HttpResponse:
    context = {
        "school": org,
        "person": administration.person_of(_acting(request), org, person),
        "form": form or PasswordForm(),
        "error": error,
    }
    return render(request, "portal/school/person.html", context, status=status)


@login_required
@require_GET
def person(request: HttpRequest, school_id: str, user_id: str) -> HttpResponse:
    org = _school(request, school_id)
    return _person_page(request, org, _member(org, user_id))


@never_cache  # the new password is shown once and never kept by a browser
@login_required
@require_POST
def reset_password(request: HttpRequest, school_id: str, user_id: str) -> HttpResponse:
    try:
        org = _school(request, school_id)
        child = _member(org, user_id)
    except Http404:
        # Someone's password asked for outside the person's schools: worth an operator's look.
        administration.audit.warning(
            "password reset refused: user %s asked for user %s of school %s (not theirs)",
            _acting(request).pk,
            user_id,
            school_id,
        )
        raise
    form = PasswordForm(request.POST)
    if not form.is_valid():
        return _person_page(request, org, child, form=form, status=HTTPStatus.BAD_REQUEST)
    try:
        done = administration.reset_password(
            acting_user=_acting(request), user=child, password=form.chosen_password()
        )
    except administration.NotAdministered:
        raise Http404 from None
    except administration.InvalidPassword as e:
        for message in e.messages:
            form.add_error("password1", message)
        return _person_page(request, org, child, form=form, status=e.status)
    except administration.PasswordResetRefused as e:
        return _person_page(request, org, child, error=str(e.message), status=e.status)
    throttling.unlock_account(request, child.username)
    return render(request, "portal/school/password_done.html", {"school": org, "done": done})
