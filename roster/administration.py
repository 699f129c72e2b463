"""Who administers which organisations, and the administrators' actions: the one owner.

Three roles, kept apart:

- a **platform operator** (``is_superuser``, with ``is_staff``) runs the platform in the
  Django admin — the only one allowed there (``is_platform_operator``). Being one grants
  nothing in the portal's administration pages, which follow the roster role below;
- a **board administrator** (role ``districtAdministrator``, ``User.org`` a board) administers
  the board and its schools;
- a **school administrator** (role ``administrator``, ``User.org`` a school) administers that
  school.

Anyone else — and an inactive account, and a role whose ``org`` is of the wrong type (a school
administrator attached to a board) — administers nothing. A person *belongs* to the org their
``User.org`` names; a class belongs to its ``school``.

The portal's pages, the gradebook's "administrators see their school" check and later the
OneRoster import and the vendor pages ask this module; none of them writes the rule again.
Lookups answer ``NotAdministered`` the same way for missing and forbidden objects.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import dataclass
from http import HTTPStatus

from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from . import membership
from .models import Enrollment, Org, OrgType, RosterRole, SchoolClass, User

audit = logging.getLogger("manabi.audit")

AnyUser = User | AnonymousUser


class AdministrationError(Exception):
    """Base of this module's refusals; each carries its code, HTTP status and a message."""

    code = "refused"
    status = HTTPStatus.FORBIDDEN
    message: str | Promise = _("この操作はできません。")

    def __init__(self) -> None:
        super().__init__(str(self.message))


class NotAdministered(AdministrationError):
    """The object does not exist or is not the acting person's to administer (one answer)."""

    code = "not_found"
    status = HTTPStatus.NOT_FOUND
    message = _("見つかりません。")


class PasswordResetRefused(AdministrationError):
    """The account is administered, but its password is not changed here (staff, oneself)."""

    code = "password_reset_refused"
    message = _("この利用者のパスワードはここでは変更できません。")


class InvalidPassword(AdministrationError):
    """The chosen password fails the password validators; ``messages`` says why."""

    code = "invalid_password"
    status = HTTPStatus.BAD_REQUEST
    message = _("このパスワードは使えません。")

    def __init__(self, messages: list[str]) -> None:
        self.messages = messages
        super().__init__()


# --- who administers what --------------------------------------------------------------------


def is_platform_operator(user: AnyUser) -> bool:
    """The platform operator: an active superuser with staff status (the Django admin's user)."""
    return bool(user.is_active and user.is_staff and user.is_superuser)


def _own_org(user: AnyUser) -> tuple[int, str] | None:
    """The pk and type the user's administration starts from, or None."""
    if not isinstance(user, User) or not user.is_active or user.org_id is None:
        return None
    if user.role == RosterRole.ADMINISTRATOR:
        wanted = OrgType.SCHOOL
    elif user.role == RosterRole.DISTRICT_ADMINISTRATOR:
        wanted = OrgType.DISTRICT
    else:
        return None
    org_type = Org.objects.filter(pk=user.org_id).values_list("type", flat=True).first()
    return (user.org_id, wanted) if org_type == wanted else None


def administered_orgs(user: AnyUser) -> QuerySet[Org]:
    """The orgs the user administers: a school administrator's school; a board
    administrator's board and its schools; nothing for anyone else."""
    own = _own_org(user)
    if own is None:
        return Org.objects.none()
    pk, org_type = own
    if org_type == OrgType.SCHOOL:
        return Org.objects.filter(pk=pk)
    return Org.objects.filter(Q(pk=pk) | Q(parent_id=pk, type=OrgType.SCHOOL))


def administered_org(
    user: AnyUser, sourced_id: uuid.UUID | str, *, org_type: str | None = None
) -> Org:
    """The org with this sourcedId among ``administered_orgs`` (of ``org_type`` when given);
    ``NotAdministered`` when it is missing, of another type or not the user's — the same
    answer for all three, so that pages answer 404 alike."""
    orgs = administered_orgs(user)
    if org_type is not None:
        orgs = orgs.filter(type=org_type)
    try:
        return orgs.get(sourced_id=sourced_id)
    except (Org.DoesNotExist, ValidationError) as e:
        raise NotAdministered from e


def administered_schools(user: AnyUser) -> QuerySet[Org]:
    """The schools among ``administered_orgs``, by name."""
    return administered_orgs(user).filter(type=OrgType.SCHOOL).order_by("name", "pk")


def administers(user: AnyUser, org: Org | None) -> bool:
    """Whether the user administers ``org`` (None — no org — is administered by nobody)."""
    return org is not None and administers_org_id(user, org.pk)


def administers_org_id(user: AnyUser, org_id: int) -> bool:
    """``administers`` by the org's pk (no query for someone who administers nothing: an empty
    queryset's ``exists`` never reaches the database)."""
    return administered_orgs(user).filter(pk=org_id).exists()


def administered_users(user: AnyUser) -> QuerySet[User]:
    """The people who belong to an org the user administers."""
    return User.objects.filter(org__in=administered_orgs(user))


def administered_classes(user: AnyUser) -> QuerySet[SchoolClass]:
    """The classes of the schools the user administers."""
    return SchoolClass.objects.filter(school__in=administered_schools(user))


def school_of(user: AnyUser, school_id: uuid.UUID | str) -> Org:
    """The administered school with this sourcedId; ``NotAdministered`` when missing or not
    the user's."""
    return administered_org(user, school_id, org_type=OrgType.SCHOOL)


def member_of(school: Org, user_id: uuid.UUID | str) -> User:
    """The person of ``school`` with this e-portal UUID; ``NotAdministered`` when missing or of
    another org. ``school`` must come from ``school_of``."""
    try:
        return User.objects.select_related("org").get(org=school, eportal_uuid=user_id)
    except (User.DoesNotExist, ValidationError) as e:
        raise NotAdministered from e


# --- what an administrator reads --------------------------------------------------------------

ROLE_ORDER: dict[str, int] = {
    RosterRole.ADMINISTRATOR: 0,
    RosterRole.DISTRICT_ADMINISTRATOR: 1,
    RosterRole.TEACHER: 2,
    RosterRole.STUDENT: 3,
    RosterRole.VENDOR: 4,
}


@dataclass(frozen=True)
class Person:
    """A person of a school with their active enrollments in its classes (class, 出席番号)."""

    user: User
    enrollments: list[Enrollment]
    can_reset_password: bool


def people_of(acting_user: AnyUser, school: Org) -> list[Person]:
    """The people of an administered school: staff first, then students by class and 出席番号
    (two queries)."""
    if not administers(acting_user, school):
        raise NotAdministered
    users = list(User.objects.filter(org=school))
    by_user = _enrollments_in(school, users)

    def order(u: User) -> tuple[int, str, int, str, str]:
        first = by_user.get(u.pk, [None])[0]
        return (
            ROLE_ORDER.get(u.role, 9),
            first.school_class.title if first else "",
            (first.shusseki_no or 0) if first else 0,
            u.kana_full_name,
            u.username,
        )

    return [
        Person(u, by_user.get(u.pk, []), _password_resettable(acting_user, u))
        for u in sorted(users, key=order)
    ]


def person_of(acting_user: AnyUser, school: Org, user: User) -> Person:
    """One person of an administered school (``user`` from ``member_of``), as in ``people_of``."""
    if not administers(acting_user, school) or user.org_id != school.pk:
        raise NotAdministered
    enrollments = _enrollments_in(school, [user]).get(user.pk, [])
    return Person(user, enrollments, _password_resettable(acting_user, user))


def _enrollments_in(school: Org, users: list[User]) -> dict[int, list[Enrollment]]:
    """The users' active enrollments in the school's classes, by user pk (one query)."""
    rows = (
        membership.active_enrollments()
        .filter(school=school, user__in=[u.pk for u in users])
        .select_related("school_class")
        .order_by("school_class__title", "shusseki_no", "pk")
    )
    by_user: dict[int, list[Enrollment]] = {}
    for row in rows:
        by_user.setdefault(row.user_id, []).append(row)
    return by_user


@dataclass(frozen=True)
class ClassSummary:
    school_class: SchoolClass
    students: int
    teachers: list[User]


def classes_of(acting_user: AnyUser, school: Org) -> list[ClassSummary]:
    """The classes of an administered school, by title, with their active students' count and
    teachers (three queries)."""
    if not administers(acting_user, school):
        raise NotAdministered
    classes = list(
        SchoolClass.objects.filter(school=school).prefetch_related("terms").order_by("title", "pk")
    )
    counts = membership.student_counts(k.pk for k in classes)
    teachers: dict[int, list[User]] = {}
    rows = (
        membership.active_enrollments()
        .filter(school_class__in=[k.pk for k in classes], role=RosterRole.TEACHER)
        .select_related("user")
        .order_by("-primary", "user__kana_family_name", "pk")
    )
    for row in rows:
        teachers.setdefault(row.school_class_id, []).append(row.user)
    return [ClassSummary(k, counts.get(k.pk, 0), teachers.get(k.pk, [])) for k in classes]


# --- actions ---------------------------------------------------------------------------------

# Short romaji words a child can read and type on a tablet's keyboard.
PASSWORD_WORDS = (
    "kuma neko inu usagi risu tori sakana kame kaeru zou saru tanuki kitsune panda ringo mikan "
    "momo budou ichigo suika kuri hana sora kumo hoshi tsuki umi yama kawa mori yuki kaze"
).split()


def generate_child_password() -> str:
    """A password a child can read and type: two words and three digits (``kuma-ringo-385``,
    about 20 bits; sign-in throttling per account is what makes that enough)."""
    words = [secrets.choice(PASSWORD_WORDS) for _ in range(2)]
    return f"{words[0]}-{words[1]}-{secrets.randbelow(1000):03d}"


def _password_resettable(acting_user: AnyUser, user: User) -> bool:
    """Only children's passwords: never staff, operators, vendors or one's own."""
    return (
        user.role == RosterRole.STUDENT
        and not user.is_staff
        and not user.is_superuser
        and isinstance(acting_user, User)
        and acting_user.pk != user.pk
    )


def can_reset_password(acting_user: AnyUser, user: User) -> bool:
    """Whether ``acting_user`` may set ``user``'s password: an administrator of the child's
    school (or its board), for a student account."""
    return _password_resettable(acting_user, user) and administers(acting_user, user.org)


def _generated_for(user: User) -> str:
    """A generated password the validators accept for ``user`` (a rare one too similar to the
    user's name is drawn again)."""
    for _attempt in range(20):
        candidate = generate_child_password()
        try:
            validate_password(candidate, user)
        except ValidationError:
            continue
        return candidate
    return candidate  # validated (and refused) again by the caller


@dataclass(frozen=True)
class PasswordReset:
    user: User
    password: str  # shown once to the administrator; never stored in clear
    generated: bool


@transaction.atomic
def reset_password(
    *, acting_user: AnyUser, user: User, password: str | None = None
) -> PasswordReset:
    """Set a child's password: the one given (checked by the password validators) or, when
    None, a generated child-friendly one. The child's other sessions end (Django checks the
    password hash on each request). Writes an audit line after commit.

    Raises ``NotAdministered`` (not the acting user's school), ``PasswordResetRefused`` (a
    staff account, or one's own) or ``InvalidPassword``; nothing changes then."""
    if not isinstance(acting_user, User) or not administers(acting_user, user.org):
        raise NotAdministered
    if not _password_resettable(acting_user, user):
        raise PasswordResetRefused
    generated = password is None
    new = password if password is not None else _generated_for(user)
    try:
        validate_password(new, user)
    except ValidationError as e:
        raise InvalidPassword(list(e.messages)) from e
    user.set_password(new)
    user.save(update_fields=["password"])
    acting_pk, user_pk, org_pk = acting_user.pk, user.pk, user.org_id
    transaction.on_commit(
        lambda: audit.info(
            "password reset: by user %s for user %s of org %s (%s)",
            acting_pk,
            user_pk,
            org_pk,
            "generated" if generated else "chosen",
        )
    )
    return PasswordReset(user, new, generated)
