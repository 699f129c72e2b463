"""The sign-in cards' rules and actions: who prints cards for which class, issuing, revoking,
and which card signs whom in.

- **Who manages a class's cards**: a teacher of the class today (an active staff enrollment,
  ``roster.membership``) or an administrator of its school or board
  (``roster.administration``). Anyone else gets ``ClassNotFound``, as for a missing class.
- **Who gets a card**: the class's active students (``membership.members``) whose account is
  a student's — never staff, an operator or a vendor.
- **Which card signs in**: one in use (not revoked) whose child is still a student account,
  active, and an active student of the class the card was printed for (``membership``, the
  day's rule: a child who left the class, or whose enrollment was set inactive, is refused).

Secrets are 256 random bits (``secrets.token_urlsafe(32)``) behind a fixed prefix; only their
SHA-256 is stored. A fast hash is right here: the secret is random and long, so unlike a
password it cannot be guessed from a list, and the whole school signs in at 8:30.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from http import HTTPStatus

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from audit import trail
from roster import administration, membership
from roster.models import Enrollment, RosterRole, SchoolClass, User

from .models import SigninCard

AnyUser = User | AnonymousUser

# What a card's QR code holds: this prefix, then the secret. The prefix lets the scanning page
# tell a sign-in card from any other QR code before it sends anything.
SECRET_PREFIX = "MANABI-CARD-1:"  # noqa: S105  (a fixed label, not a secret)
SECRET_MAX_LENGTH = 200  # anything longer is not one of ours (checked before hashing)


class CardError(Exception):
    """Base of this module's refusals; each carries its code, HTTP status and a message."""

    code = "refused"
    status = HTTPStatus.FORBIDDEN
    message: str | Promise = _("この操作はできません。")

    def __init__(self) -> None:
        super().__init__(str(self.message))


class ClassNotFound(CardError):
    """The class does not exist or its cards are not the acting person's (one answer)."""

    code = "not_found"
    status = HTTPStatus.NOT_FOUND
    message = _("見つかりません。")


class CardNotFound(ClassNotFound):
    """No such card among the class's, or no such student in the class."""


class CardRefused(CardError):
    """A card that signs nobody in: unknown, revoked, or its child no longer in the class."""

    code = "card_refused"
    message = _("このカードは つかえません。せんせいに いってね。")


class StaffCard(CardError):
    """A card whose account is not a student's: staff sign in with their password (and MFA)."""

    code = "staff_card"
    message = _(
        "このカードでは ログインできません。先生や管理者は ユーザー名と パスワードで "
        "ログインしてください。"
    )


# --- who manages which class's cards ---------------------------------------------------------


def may_manage(user: AnyUser, school_class: SchoolClass) -> bool:
    """Whether ``user`` may print and revoke the cards of ``school_class``."""
    if not isinstance(user, User) or not user.is_active:
        return False
    role = membership.role_in_class(user.pk, school_class.pk)
    if role is not None and role in membership.STAFF_ROLES:
        return True
    return administration.administers_org_id(user, school_class.school_id)


def managed_class(user: AnyUser, class_id: uuid.UUID | str) -> SchoolClass:
    """The class with this sourcedId if ``user`` manages its cards, else ``ClassNotFound``."""
    try:
        school_class = SchoolClass.objects.select_related("school").get(sourced_id=class_id)
    except (SchoolClass.DoesNotExist, ValidationError) as e:
        raise ClassNotFound from e
    if not may_manage(user, school_class):
        raise ClassNotFound
    return school_class


# --- what the class's page lists -------------------------------------------------------------


def _card_holder(user: User) -> bool:
    """A student account, and nothing more (no staff flag, no operator)."""
    return user.role == RosterRole.STUDENT and not user.is_staff and not user.is_superuser


@dataclass(frozen=True)
class CardRow:
    """A student of the class, their enrollment (出席番号) and their card in use, if any."""

    enrollment: Enrollment
    card: SigninCard | None

    @property
    def student(self) -> User:
        return self.enrollment.user


def _students(school_class: SchoolClass) -> list[Enrollment]:
    rows = membership.members(school_class, roles=[RosterRole.STUDENT]).order_by(
        "shusseki_no", "user__kana_family_name", "user__kana_given_name", "pk"
    )
    return [e for e in rows if _card_holder(e.user)]


def class_cards(*, acting_user: AnyUser, school_class: SchoolClass) -> list[CardRow]:
    """The class's students by 出席番号, each with their card in use (two queries)."""
    if not may_manage(acting_user, school_class):
        raise ClassNotFound
    students = _students(school_class)
    cards = {
        c.user_id: c
        for c in SigninCard.objects.filter(
            user__in=[e.user_id for e in students], revoked_at__isnull=True
        )
    }
    return [CardRow(e, cards.get(e.user_id)) for e in students]


# --- actions ---------------------------------------------------------------------------------


def hash_secret(secret: str) -> str:
    """The stored form of a card's secret (its QR text): SHA-256, hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    """A card's QR text: the prefix and 256 random bits."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class PrintedCard:
    """What one printed card shows; ``secret`` exists only here and on the paper."""

    kana_name: str
    shusseki_no: int | None
    class_title: str
    school_name: str
    secret: str


@transaction.atomic
def issue_cards(
    *,
    acting_user: AnyUser,
    school_class: SchoolClass,
    students: Iterable[uuid.UUID | str] | None = None,
) -> list[PrintedCard]:
    """Issue a new card to each of the class's students (or to those of ``students``, by
    e-portal UUID), revoking each one's card in use; record it in the audit trail.

    Raises ``ClassNotFound`` (not the acting user's class) or ``CardNotFound`` (a named
    student is not an active student of the class); nothing changes then."""
    if not isinstance(acting_user, User) or not may_manage(acting_user, school_class):
        raise ClassNotFound
    enrollments = _students(school_class)
    if students is not None:
        wanted = {str(s) for s in students}
        enrollments = [e for e in enrollments if str(e.user.eportal_uuid) in wanted]
        if len(enrollments) != len(wanted):
            raise CardNotFound
    now = timezone.now()
    user_ids = [e.user_id for e in enrollments]
    revoked = SigninCard.objects.filter(user__in=user_ids, revoked_at__isnull=True).update(
        revoked_at=now, revoked_by=acting_user
    )
    printed, rows = [], []
    for e in enrollments:
        secret = new_secret()
        rows.append(
            SigninCard(
                user=e.user,
                school_class=school_class,
                secret_hash=hash_secret(secret),
                issued_at=now,
                issued_by=acting_user,
            )
        )
        printed.append(
            PrintedCard(
                kana_name=e.user.kana_full_name or e.user.display_name,
                shusseki_no=e.shusseki_no,
                class_title=school_class.title,
                school_name=school_class.school.name,
                secret=secret,
            )
        )
    SigninCard.objects.bulk_create(rows)
    trail.record(
        actor=acting_user,
        action="signin_card.issued",
        target=school_class,
        org=school_class.school,
        after={
            "students": [str(e.user.eportal_uuid) for e in enrollments],
            "revoked": revoked,
        },
    )
    return printed


def card_of_class(school_class: SchoolClass, card_id: int) -> SigninCard:
    """The card in use with this id among the class's, else ``CardNotFound``."""
    try:
        return SigninCard.objects.select_related("user").get(
            pk=card_id, school_class=school_class, revoked_at__isnull=True
        )
    except SigninCard.DoesNotExist as e:
        raise CardNotFound from e


@transaction.atomic
def revoke_card(*, acting_user: AnyUser, card: SigninCard) -> SigninCard:
    """Revoke a card in use (it signs nobody in from now on); record it in the audit trail."""
    if not isinstance(acting_user, User) or not may_manage(acting_user, card.school_class):
        raise ClassNotFound
    changed = SigninCard.objects.filter(pk=card.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=acting_user
    )
    if not changed:  # revoked meanwhile by someone else
        raise CardNotFound
    card.refresh_from_db()
    trail.record(
        actor=acting_user,
        action="signin_card.revoked",
        target=card,
        org=card.school_class.school,
        before={"student": str(card.user.eportal_uuid), "in_use": True},
        after={"student": str(card.user.eportal_uuid), "in_use": False},
    )
    return card


# --- signing in ------------------------------------------------------------------------------


def well_formed(secret: str) -> bool:
    """Whether ``secret`` could be a card's QR text (checked before any lookup)."""
    return secret.startswith(SECRET_PREFIX) and len(secret) <= SECRET_MAX_LENGTH


# The user of the card in use with this secret's hash, and the card's class as
# ``card_class_id`` (a raw query's extra column).
_CARD_USER_SQL = (
    f"SELECT u.*, c.school_class_id AS card_class_id FROM {User._meta.db_table} u "  # noqa: S608
    f"JOIN {SigninCard._meta.db_table} c ON c.user_id = u.id "
    "WHERE c.secret_hash = %s AND c.revoked_at IS NULL"
)


def card_user(secret: str) -> User:
    """The child a card's QR text signs in, or ``CardRefused`` / ``StaffCard``.

    Two queries, both hand-written (the whole school signs in at 8:30, and the ORM spent
    more time building the card's query than SQLite answering it): the card's user with the
    card's class, and the child's roles in that class (``membership.roles_in_class``)."""
    if not well_formed(secret):
        raise CardRefused
    found = list(User.objects.raw(_CARD_USER_SQL, [hash_secret(secret)]))
    if not found:
        raise CardRefused
    user = found[0]  # secret_hash is unique: one row at most
    if not _card_holder(user):
        raise StaffCard
    if not user.is_active:
        raise CardRefused
    class_pk: int = user.card_class_id  # type: ignore[attr-defined]  # the query's extra column
    if RosterRole.STUDENT not in membership.roles_in_class(user.pk, class_pk):
        raise CardRefused
    return user
