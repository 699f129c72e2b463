"""Reset a person's MFA (the lost phone): who may, and the action.

A board administrator resets the MFA of the school administrators and teachers of the board's
schools; the platform operator anyone's, in the Django admin (``sso.mfa_admin``). Nobody
resets their own (they would undo the second factor with the password alone), a student has
none, and a school administrator resets nobody's (the board is the one who knows them).

A reset deletes every authenticator of the person (TOTP, passkeys, recovery codes): at their
next sign-in an administrator is asked to enrol again (``sso.mfa_policy``). The audit event
names the kinds removed, never a secret.
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus

from allauth.mfa.models import Authenticator
from django.db import transaction
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from audit import trail
from roster.administration import AnyUser, administers, is_platform_operator
from roster.models import OrgType, RosterRole, User

from . import mfa_policy

# Whose MFA a board administrator may reset (in the board's schools).
RESETTABLE_BY_BOARD = frozenset({RosterRole.ADMINISTRATOR, RosterRole.TEACHER})


class MfaResetRefused(Exception):
    """The acting person may not reset this person's MFA (one answer for all reasons)."""

    code = "mfa_reset_refused"
    status = HTTPStatus.NOT_FOUND
    message: str | Promise = _("見つかりません。")

    def __init__(self) -> None:
        super().__init__(str(self.message))


def can_reset(acting_user: AnyUser, user: User) -> bool:
    """Whether ``acting_user`` may reset ``user``'s MFA."""
    if not isinstance(acting_user, User) or acting_user.pk == user.pk:
        return False
    if not mfa_policy.may_use(user) and not mfa_policy.has_authenticator(user):
        return False
    if is_platform_operator(acting_user):
        return True
    return (
        acting_user.role == RosterRole.DISTRICT_ADMINISTRATOR
        and user.role in RESETTABLE_BY_BOARD
        and user.org is not None
        and user.org.type == OrgType.SCHOOL
        and administers(acting_user, user.org)
    )


@dataclass(frozen=True)
class MfaReset:
    user: User
    removed: list[str]  # the kinds of authenticator removed, e.g. ["totp", "recovery_codes"]


@transaction.atomic
def reset_mfa(*, acting_user: AnyUser, user: User) -> MfaReset:
    """Delete every authenticator of ``user`` and write an audit event, in one transaction.

    Raises ``MfaResetRefused`` when ``can_reset`` says no; nothing changes then."""
    if not can_reset(acting_user, user):
        raise MfaResetRefused
    assert isinstance(acting_user, User)  # noqa: S101  (can_reset checked it)
    rows = list(
        Authenticator.objects.select_for_update().filter(user_id=user.pk).order_by("type", "pk")
    )
    removed = [row.type for row in rows]
    Authenticator.objects.filter(pk__in=[row.pk for row in rows]).delete()
    trail.record(
        actor=acting_user,
        action="mfa.reset",
        target=user,
        org=user.org,
        before={"authenticators": removed},
        after={"authenticators": []},
        target_type="user",
    )
    return MfaReset(user, removed)
