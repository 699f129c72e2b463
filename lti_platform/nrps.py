"""Names and Role Provisioning Services 2.0: the class list of one context, for one tool.

Who is listed is roster.membership's rule; what is said about each member is roster_data's;
the context is one where the tool is placed (ags.service_context).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings

from roster import membership
from roster.models import Enrollment, EnrollmentStatus
from tools_registry.models import Placement

from . import roles, roster_data
from .ags import ServiceContext, placement_in_context
from .protocol import ags as ags_protocol
from .protocol import constants as c


def memberships_url(ctx: ServiceContext) -> str:
    deployment, school_class = ctx.deployment.pk, ctx.school_class.sourced_id
    return f"{settings.LTI_ISSUER}/lti/nrps/{deployment}/{school_class}/memberships"


def _placement(ctx: ServiceContext, rlid: str) -> Placement:
    placement = placement_in_context(ctx, rlid)
    if placement is None:
        raise ags_protocol.AgsError("rlid is not a resource link of this context")
    return placement


def _status(enrollment: Enrollment, in_session: bool, day: datetime.date) -> str:
    if enrollment.status == EnrollmentStatus.TO_BE_DELETED:
        return "Deleted"
    if not (in_session and membership.is_current(enrollment, day)) or not enrollment.user.is_active:
        return "Inactive"
    return "Active"


def memberships(
    ctx: ServiceContext,
    *,
    role: str | None,
    rlid: str | None,
    since: datetime.datetime | None,
    offset: int,
    limit: int,
) -> tuple[dict[str, Any], bool]:
    """Return one page of the membership container and whether a next page exists.

    Without ``since``: the active members. With ``since``: every enrollment changed at or after
    that moment, with its status (Active, Inactive, Deleted).
    """
    school_class = ctx.school_class
    day = membership.today()
    if since is None:
        rows = membership.members(school_class, day=day)
    else:
        rows = Enrollment.objects.filter(
            school_class=school_class, date_last_modified__gte=since
        ).select_related("user")
    if role is not None:
        rows = rows.filter(role__in=roles.roster_roles_for(role))
    placement = _placement(ctx, rlid) if rlid is not None else None
    page = list(rows.order_by("pk")[offset : offset + limit + 1])
    shared = roster_data.privacy(ctx.deployment)
    in_session = since is None or membership.in_session(school_class, day)
    members = []
    for enrollment in page[:limit]:
        user = enrollment.user
        person = roster_data.person(user)
        context_role = roles.context_role(enrollment.role)
        member: dict[str, Any] = {
            "status": _status(enrollment, in_session, day),
            "user_id": person.sub,
            "roles": [context_role],
            "lis_person_sourcedid": person.sourced_id,
        }
        if shared.share_name:
            member.update(
                {
                    "name": person.full_name,
                    "given_name": person.given_name,
                    "family_name": person.family_name,
                }
            )
        if shared.share_email and person.email:
            member["email"] = person.email
        if placement is not None:
            custom = roster_data.message_custom(
                user=user, school_class=school_class, placement=placement, roles=[context_role]
            )
            member["message"] = [
                {
                    c.CLAIM_MESSAGE_TYPE: c.MessageType.RESOURCE_LINK.value,
                    c.CLAIM_CUSTOM: custom,
                }
            ]
        members.append(member)
    context = roster_data.context(school_class)
    body = {
        "id": memberships_url(ctx),
        "context": {"id": context.id, "label": context.label, "title": context.title},
        "members": members,
    }
    return body, len(page) > limit
