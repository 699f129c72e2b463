"""Template questions to the MFA rule (``sso.mfa_policy``, ``sso.mfa_reset``)."""

from __future__ import annotations

from django import template

from roster.models import User

from .. import mfa_policy, mfa_reset

register = template.Library()


@register.filter
def mfa_may_use(user: object) -> bool:
    """Whether the person may enrol in MFA (no query: never for students)."""
    return isinstance(user, User) and mfa_policy.may_use(user)


@register.filter
def mfa_required(user: object) -> bool:
    """Whether the person must use MFA (no query)."""
    return isinstance(user, User) and mfa_policy.is_required(user)


@register.filter
def can_reset_mfa(acting_user: object, user: object) -> bool:
    """Whether ``acting_user`` may reset ``user``'s MFA (``sso.mfa_reset.can_reset``)."""
    return (
        isinstance(acting_user, User)
        and isinstance(user, User)
        and mfa_reset.can_reset(acting_user, user)
    )
