"""Who must, may and may not use multi-factor authentication: the one owner of the rule.

- **Required** for administrators: school administrators, board administrators (roster roles
  ``administrator`` and ``districtAdministrator``) and the platform operator
  (``roster.administration.is_platform_operator``; any staff or superuser account counts, so
  an operator account that lost its roster role is no way round it). Such an account that has
  no authenticator is sent to enrol (an authenticator app or a passkey) before any other page
  answers; one that has an authenticator passes allauth's MFA stage at sign-in, and a session
  that did not (one signed in some other way) is asked for a code before it goes on.
- **Optional** for teachers and tool vendors: they may enrol; once they have, allauth asks for
  the second factor at every sign-in.
- **Never** for students: the MFA pages answer them 404 and nothing links there.

The middleware (``sso.mfa_middleware``), the MFA adapter (``sso.mfa_adapter``), the reset
(``sso.mfa_reset``) and the pages ask this module; none of them writes the rule again.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from allauth.account.internal.flows.login import get_authentication_records
from allauth.mfa.models import Authenticator
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest

from roster.administration import is_platform_operator
from roster.models import RosterRole, User

AnyUser = User | AnonymousUser

ADMINISTRATOR_ROLES = frozenset({RosterRole.ADMINISTRATOR, RosterRole.DISTRICT_ADMINISTRATOR})
OPTIONAL_ROLES = frozenset({RosterRole.TEACHER, RosterRole.VENDOR})

# The authenticators that are a second factor at sign-in (recovery codes only stand in for
# them once enrolled).
PRIMARY_TYPES = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)


class Policy(Enum):
    REQUIRED = "required"
    OPTIONAL = "optional"
    NEVER = "never"


def policy_for(user: AnyUser) -> Policy:
    """Whether MFA is required, optional or never offered for ``user``."""
    if not isinstance(user, User) or not user.is_active:
        return Policy.NEVER
    if user.role in ADMINISTRATOR_ROLES or is_platform_operator(user):
        return Policy.REQUIRED
    if user.is_staff or user.is_superuser:  # an operator account missing one of its flags
        return Policy.REQUIRED
    if user.role in OPTIONAL_ROLES:
        return Policy.OPTIONAL
    return Policy.NEVER


def is_required(user: AnyUser) -> bool:
    """Whether ``user`` must use MFA (administrators and the platform operator)."""
    return policy_for(user) is Policy.REQUIRED


def may_use(user: AnyUser) -> bool:
    """Whether ``user`` may enrol and manage authenticators (never students)."""
    return policy_for(user) is not Policy.NEVER


def has_authenticator(user: AnyUser) -> bool:
    """Whether ``user`` has a second factor (TOTP or a passkey) enrolled (one query)."""
    if not isinstance(user, User) or user.pk is None:
        return False
    return Authenticator.objects.filter(user_id=user.pk, type__in=PRIMARY_TYPES).exists()


def session_passed_mfa(request: HttpRequest, user: AnyUser) -> bool:
    """Whether this session's sign-in of ``user`` included a second factor, as allauth records
    it (an ``mfa`` entry in the session's authentication records: the MFA stage at sign-in,
    a reauthentication with a code, or an enrolment in this session). No query."""
    if not isinstance(user, User):
        return False
    records: list[dict[str, Any]] = get_authentication_records(request, user)
    return any(record.get("method") == "mfa" for record in records)


class Verdict(Enum):
    """What the enforcement does with a signed-in request."""

    PASS = "pass"  # noqa: S105  (not a password)
    ENROL = "enrol"  # required, nothing enrolled: to the enrolment page
    VERIFY = "verify"  # enrolled, but this session has no second factor: ask for a code


def verdict(request: HttpRequest, user: AnyUser) -> Verdict:
    """The enforcement's decision for ``user``'s request (no query for students, teachers, or
    an administrator whose session passed MFA).

    Teachers and vendors who enrolled are asked by allauth's MFA stage at every sign-in; only
    the required roles are checked again on each request, so a session that reached an
    administrator some other way does not get past the second factor.
    """
    if not is_required(user):
        return Verdict.PASS
    if session_passed_mfa(request, user):
        return Verdict.PASS
    return Verdict.VERIFY if has_authenticator(user) else Verdict.ENROL
