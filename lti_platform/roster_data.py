"""Person, context and grade data from the roster: one builder for the launch, NRPS and later
the OneRoster API and xAPI, so that every channel says the same about a child."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from roster.models import RosterRole, SchoolClass, User
from tools_registry import grants
from tools_registry.models import Deployment, Placement, PrivacyLevel, Registration

from .protocol import claims


def person(user: User) -> claims.Person:
    """Everything the platform may say about a person; privacy decides what is sent."""
    return claims.Person(
        sub=str(user.eportal_uuid),
        username=user.username,
        sourced_id=str(user.sourced_id),
        given_name=user.first_name,
        family_name=user.last_name,
        kana_given_name=user.kana_given_name,
        kana_family_name=user.kana_family_name,
        email=user.email,
    )


def context(school_class: SchoolClass) -> claims.Context:
    return claims.Context(
        id=str(school_class.sourced_id),
        label=school_class.class_code or school_class.title,
        title=school_class.title,
        sourced_id=str(school_class.sourced_id),
    )


def resource_link(placement: Placement) -> claims.ResourceLink:
    return claims.ResourceLink(
        id=str(placement.resource_link_id),
        title=placement.title,
        description=placement.description,
    )


def grade(user: User, school_class: SchoolClass) -> str:
    """A student's own grade code, else the class's (staff have no grade of their own)."""
    if user.role == RosterRole.STUDENT and user.grade:
        return user.grade
    return school_class.grade


@dataclass(frozen=True)
class Privacy:
    share_name: bool
    share_email: bool


def privacy(deployment: Deployment) -> Privacy:
    """What personal claims a deployment may receive (``sub`` and roster context always)."""
    return privacy_of_level(grants.deployment_grant(deployment).privacy_level)


def privacy_of_level(level: str) -> Privacy:
    """What a privacy level lets a tool receive: the launch's and the OIDC provider's rule."""
    return Privacy(
        share_name=level in (PrivacyLevel.NAME, PrivacyLevel.NAME_EMAIL),
        share_email=level == PrivacyLevel.NAME_EMAIL,
    )


def custom_parameters(registration: Registration, placement: Placement) -> dict[str, str]:
    """The tool's custom parameters: the registration's, then the placement's additions."""
    return {**registration.custom_parameters, **placement.custom_parameters}


def message_custom(
    *,
    user: User,
    school_class: SchoolClass,
    placement: Placement,
    roles: list[str],
) -> dict[str, str]:
    """The custom claim of a resource link message for one person (NRPS ``message``)."""
    deployment = placement.deployment
    shared = privacy(deployment)
    member_grade = grade(user, school_class)
    variables = claims.custom_variables(
        person=person(user),
        context=context(school_class),
        resource_link=resource_link(placement),
        roles=roles,
        platform_guid=settings.LTI_PLATFORM_GUID,
        share_name=shared.share_name,
        share_email=shared.share_email,
        grade=member_grade,
    )
    return claims.custom_claim(
        custom_parameters(deployment.registration, placement), variables, member_grade
    )
