"""Names and Role Provisioning Services 2.0: the class list of one context, for one tool."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings

from roster.models import Enrollment, EnrollmentStatus, RosterRole
from tools_registry.models import Placement, PrivacyLevel

from .ags import ServiceContext, placement_in_context
from .protocol import ags as ags_protocol
from .protocol import claims
from .protocol import constants as c
from .services import CONTEXT_ROLE

STATUS = {EnrollmentStatus.ACTIVE: "Active", EnrollmentStatus.TO_BE_DELETED: "Deleted"}


def memberships_url(ctx: ServiceContext) -> str:
    deployment, school_class = ctx.deployment.pk, ctx.school_class.sourced_id
    return f"{settings.LTI_ISSUER}/lti/nrps/{deployment}/{school_class}/memberships"


def _placement(ctx: ServiceContext, rlid: str) -> Placement:
    placement = placement_in_context(ctx, rlid)
    if placement is None:
        raise ags_protocol.AgsError("rlid is not a resource link of this context")
    return placement


def memberships(
    ctx: ServiceContext,
    *,
    role: str | None,
    rlid: str | None,
    since: datetime.datetime | None,
    offset: int,
    limit: int,
) -> tuple[dict[str, Any], bool]:
    """Return one page of the membership container and whether a next page exists."""
    rows = Enrollment.objects.filter(school_class=ctx.school_class).select_related("user")
    if since is None:
        rows = rows.filter(status=EnrollmentStatus.ACTIVE)
    else:
        rows = rows.filter(date_last_modified__gte=since)
    if role is not None:
        roster_roles = [r for r, uri in CONTEXT_ROLE.items() if uri.value == role]
        rows = rows.filter(role__in=roster_roles)
    placement = _placement(ctx, rlid) if rlid is not None else None
    page = list(rows.order_by("pk")[offset : offset + limit + 1])
    privacy = ctx.deployment.effective_privacy_level
    share_name = privacy in (PrivacyLevel.NAME, PrivacyLevel.NAME_EMAIL)
    share_email = privacy == PrivacyLevel.NAME_EMAIL
    school_class = ctx.school_class
    context = claims.Context(
        id=str(school_class.sourced_id),
        label=school_class.class_code or school_class.title,
        title=school_class.title,
        sourced_id=str(school_class.sourced_id),
    )
    members = []
    for enrollment in page[:limit]:
        user = enrollment.user
        context_role = CONTEXT_ROLE.get(RosterRole(enrollment.role), c.Role.CONTEXT_LEARNER).value
        status = STATUS.get(EnrollmentStatus(enrollment.status), "Active")
        if status == "Active" and not user.is_active:
            status = "Inactive"
        member: dict[str, Any] = {
            "status": status,
            "user_id": str(user.eportal_uuid),
            "roles": [context_role],
            "lis_person_sourcedid": str(user.sourced_id),
        }
        if share_name:
            member.update(
                {
                    "name": user.full_name,
                    "given_name": user.first_name,
                    "family_name": user.last_name,
                }
            )
        if share_email and user.email:
            member["email"] = user.email
        if placement is not None:
            registration = ctx.deployment.registration
            custom = {**registration.custom_parameters, **placement.custom_parameters}
            grade = user.grade or school_class.grade
            variables = claims.custom_variables(
                person=claims.Person(
                    sub=str(user.eportal_uuid),
                    username=user.username,
                    sourced_id=str(user.sourced_id),
                    given_name=user.first_name,
                    family_name=user.last_name,
                    email=user.email,
                ),
                context=context,
                resource_link=claims.ResourceLink(
                    id=str(placement.resource_link_id),
                    title=placement.title,
                    description=placement.description,
                ),
                roles=[context_role],
                platform_guid=settings.LTI_PLATFORM_GUID,
                share_name=share_name,
                share_email=share_email,
                grade=grade,
            )
            message_custom = claims.custom_claim(custom, variables, grade)
            member["message"] = [
                {
                    c.CLAIM_MESSAGE_TYPE: c.MessageType.RESOURCE_LINK.value,
                    c.CLAIM_CUSTOM: message_custom,
                }
            ]
        members.append(member)
    body = {
        "id": memberships_url(ctx),
        "context": {
            "id": str(school_class.sourced_id),
            "label": school_class.class_code or school_class.title,
            "title": school_class.title,
        },
        "members": members,
    }
    return body, len(page) > limit
