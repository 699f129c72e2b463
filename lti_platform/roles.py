"""LTI roles from roster roles: the one mapping the launch, NRPS and later Deep Linking use."""

from __future__ import annotations

from roster.models import RosterRole

from .protocol.constants import Role

INSTITUTION_ROLE: dict[str, Role] = {
    RosterRole.STUDENT: Role.INSTITUTION_STUDENT,
    RosterRole.TEACHER: Role.INSTITUTION_FACULTY,
    RosterRole.ADMINISTRATOR: Role.INSTITUTION_ADMINISTRATOR,
    RosterRole.DISTRICT_ADMINISTRATOR: Role.INSTITUTION_ADMINISTRATOR,
}
CONTEXT_ROLE: dict[str, Role] = {
    RosterRole.STUDENT: Role.CONTEXT_LEARNER,
    RosterRole.TEACHER: Role.CONTEXT_INSTRUCTOR,
    RosterRole.ADMINISTRATOR: Role.CONTEXT_ADMINISTRATOR,
    RosterRole.DISTRICT_ADMINISTRATOR: Role.CONTEXT_ADMINISTRATOR,
}
# Who a tool may grade: learners only (AGS scores and results).
LEARNER_ROSTER_ROLES = (RosterRole.STUDENT,)


def institution_role(user_role: str) -> str:
    return INSTITUTION_ROLE.get(user_role, Role.INSTITUTION_STUDENT).value


def context_role(enrollment_role: str) -> str:
    return CONTEXT_ROLE.get(enrollment_role, Role.CONTEXT_LEARNER).value


def launch_roles(user_role: str, enrollment_role: str) -> list[str]:
    """The roles claim of a launch: the institution role, then the context role."""
    return [institution_role(user_role), context_role(enrollment_role)]


def roster_roles_for(context_role_uri: str) -> list[str]:
    """The roster roles that map to one context role URI (the NRPS ``role`` filter)."""
    return [str(r) for r, uri in CONTEXT_ROLE.items() if uri.value == context_role_uri]
