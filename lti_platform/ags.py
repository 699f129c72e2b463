"""Assignment and Grade Services 2.0: line items, scores and results for one tool's contexts.

Access rule (one choke point, ``service_context``): the token's registration must own the
deployment named in the URL and the tool must be placed in the class. Scores are accepted for
the class's active learners only. Anything else is "not found", the same for missing and
forbidden.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

import events
from assignments import services as assignment_rules
from assignments.models import Assignment
from dbtools.writelock import serialized_writes
from roster import membership
from roster.models import SchoolClass
from tools_registry import grants, visibility
from tools_registry.models import Deployment, Placement, Registration

from . import roles
from .errors import GradedAttemptKept, InsufficientScope, NotFound, StaleScore, SubmissionClosed
from .models import LineItem, Score, ScoreEvent
from .protocol import ags


@dataclass(frozen=True)
class ServiceContext:
    deployment: Deployment
    school_class: SchoolClass

    @property
    def base_url(self) -> str:
        return f"{settings.LTI_ISSUER}/lti/ags/{self.deployment.pk}/{self.school_class.sourced_id}"

    @property
    def lineitems_url(self) -> str:
        return self.base_url + "/lineitems"

    def line_item_url(self, item: LineItem) -> str:
        return f"{self.lineitems_url}/{item.pk}"


def service_context(
    registration: Registration,
    deployment_pk: int,
    class_id: str,
    *,
    service: str,
    scopes: tuple[str, ...] = (),
) -> ServiceContext:
    """The one access choke point of AGS and NRPS: the token's registration owns the
    deployment, and the tool is placed in the class (tools_registry.visibility: a class or
    school placement, active deployment covering the school, active registration). Anything
    else is "not found", the same for missing and forbidden. Then the deployment must grant
    ``service`` and, when given, one of ``scopes`` (the scopes the request accepts that the
    token carries; ``tools_registry.grants``: a token is per client and may carry a scope
    another board granted): if not, 403 ``insufficient_scope``, as for a tool whose token
    lacks the scopes. Configuration rows come from the per-process cache."""
    from .config_cache import config_cache

    deployment = config_cache.deployment(deployment_pk)
    class_key = _uuid_or_none(class_id)
    school_class = config_cache.school_class(class_key) if class_key else None
    if (
        deployment is None
        or school_class is None
        or deployment.registration_id != registration.pk
        or not visibility.deployment_placed_in(
            config_cache.placements_of(deployment.pk), school_class
        )
    ):
        raise NotFound("no such context for this tool")
    grant = grants.deployment_grant(deployment, registration)
    if service not in grant.services:
        raise InsufficientScope(f"this deployment does not grant the {service} service")
    if scopes and not grant.allows_any(scopes):
        raise InsufficientScope(
            f"this deployment does not grant any of the scopes {' '.join(scopes)}"
        )
    return ServiceContext(deployment, school_class)


def lineitems_url_for(deployment: Deployment, school_class: SchoolClass) -> str:
    return ServiceContext(deployment, school_class).lineitems_url


# --- line items ------------------------------------------------------------------------------


def _line_items(ctx: ServiceContext) -> QuerySet[LineItem]:
    return LineItem.objects.filter(
        deployment=ctx.deployment, school_class=ctx.school_class
    ).select_related("placement", "assignment")


def line_item_json(ctx: ServiceContext, item: LineItem) -> dict[str, Any]:
    return ags.line_item_json(
        url=ctx.line_item_url(item),
        label=item.label,
        score_maximum=item.score_maximum,
        resource_id=item.resource_id,
        tag=item.tag,
        resource_link_id=_resource_link_id(item),
        start_date_time=item.start_date_time,
        end_date_time=item.end_date_time,
        grades_released=item.grades_released,
        submission_review=item.submission_review,
    )


def _resource_link_id(item: LineItem) -> str | None:
    if item.placement is not None:
        return str(item.placement.resource_link_id)
    if item.assignment is not None:
        return str(item.assignment.resource_link_id)
    return None


def list_line_items(
    ctx: ServiceContext,
    *,
    resource_link_id: str | None,
    resource_id: str | None,
    tag: str | None,
    offset: int,
    limit: int,
) -> tuple[list[dict[str, Any]], bool]:
    items = _line_items(ctx)
    if resource_link_id is not None:
        key = _uuid_or_none(resource_link_id)
        items = (
            items.filter(Q(placement__resource_link_id=key) | Q(assignment__resource_link_id=key))
            if key
            else items.none()
        )
    if resource_id is not None:
        items = items.filter(resource_id=resource_id)
    if tag is not None:
        items = items.filter(tag=tag)
    page = list(items[offset : offset + limit + 1])
    return [line_item_json(ctx, i) for i in page[:limit]], len(page) > limit


def _uuid_or_none(value: str | uuid.UUID) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def get_line_item(ctx: ServiceContext, item_pk: int, *, cached: bool = False) -> LineItem:
    if cached:  # the score path: the row is only read (a concurrent delete is handled there)
        from .config_cache import config_cache

        item = config_cache.line_item(ctx.deployment.pk, ctx.school_class.pk, item_pk)
    else:
        item = _line_items(ctx).filter(pk=item_pk).first()
    if item is None:
        raise NotFound("no such line item")
    return item


def placement_in_context(ctx: ServiceContext, resource_link_id: str) -> Placement | None:
    """The tool's resource link placed in this class (for it or its whole school), else None."""
    from .config_cache import config_cache

    key = _uuid_or_none(resource_link_id)
    placement = config_cache.placement(key) if key is not None else None
    if (
        placement is None
        or placement.deployment_id != ctx.deployment.pk
        or not visibility.placed_in(placement, ctx.school_class)
    ):
        return None
    return placement


@dataclass(frozen=True)
class _Link:
    """The resource link a line item is bound to: a placement or an assignment (or none)."""

    placement: Placement | None = None
    assignment: Assignment | None = None


def _link_for(ctx: ServiceContext, resource_link_id: str) -> _Link:
    """``resourceLinkId`` as a resource link of this tool in this class: a placement, or an
    assignment of the class (deep-linked through this deployment, not deleted)."""
    if not resource_link_id:
        return _Link()
    placement = placement_in_context(ctx, resource_link_id)
    if placement is not None:
        return _Link(placement=placement)
    key = _uuid_or_none(resource_link_id)
    assignment = (
        Assignment.objects.filter(
            resource_link_id=key,
            school_class=ctx.school_class,
            deployment=ctx.deployment,
            deleted_at__isnull=True,
        ).first()
        if key is not None
        else None
    )
    if assignment is None:
        raise ags.AgsError("resourceLinkId is not a resource link of this tool")
    return _Link(assignment=assignment)


def _apply(item: LineItem, data: ags.LineItemData, link: _Link) -> None:
    item.label = data.label
    item.score_maximum = data.score_maximum
    item.resource_id = data.resource_id
    item.tag = data.tag
    item.placement = link.placement
    if link.assignment is not None or link.placement is not None:
        # An assignment's line item stays bound to it when a PUT leaves resourceLinkId out.
        item.assignment = link.assignment
    item.start_date_time = data.start_date_time
    item.end_date_time = data.end_date_time
    item.grades_released = data.grades_released
    item.submission_review = data.submission_review


@transaction.atomic
def create_line_item(ctx: ServiceContext, body: Any) -> dict[str, Any]:
    data = ags.parse_line_item(body)
    item = LineItem(deployment=ctx.deployment, school_class=ctx.school_class)
    _apply(item, data, _link_for(ctx, data.resource_link_id))
    item.save()
    return line_item_json(ctx, item)


@transaction.atomic
def update_line_item(ctx: ServiceContext, item_pk: int, body: Any) -> dict[str, Any]:
    item = get_line_item(ctx, item_pk)
    data = ags.parse_line_item(body)
    if isinstance(body, dict) and body.get("id") not in (None, ctx.line_item_url(item)):
        raise ags.AgsError("id must not change")
    _apply(item, data, _link_for(ctx, data.resource_link_id))
    item.save()
    return line_item_json(ctx, item)


@transaction.atomic
def delete_line_item(ctx: ServiceContext, item_pk: int) -> None:
    get_line_item(ctx, item_pk).delete()


# --- scores and results ---------------------------------------------------------------------


def _learner_pk(ctx: ServiceContext, user_id: str) -> int:
    """A tool grades only the class's active learners (roster.membership's rule)."""
    key = _uuid_or_none(user_id)
    pk = (
        membership.member_pk(key, ctx.school_class.pk, roles=roles.LEARNER_ROSTER_ROLES)
        if key
        else None
    )
    if pk is None:
        raise ags.AgsError("userId is not a learner of this context")
    return pk


def _check_submission(
    assignment: Assignment, item_pk: int, user_pk: int, timestamp: datetime.datetime
) -> None:
    """Apply ``assignments.services.score_refusal`` (the submission window; a test's graded
    attempt stays) under the write lock, so that two racing attempts cannot both pass."""
    stored = (
        Score.objects.filter(line_item_id=item_pk, user_id=user_pk)
        .values_list("activity_progress", "grading_progress")
        .first()
        if assignment_rules.is_test(assignment)
        else None
    )
    refusal = assignment_rules.score_refusal(
        assignment, timestamp=timestamp, received_at=timezone.now(), stored=stored
    )
    if refusal == assignment_rules.ScoreRefusal.WINDOW_CLOSED:
        raise SubmissionClosed(refusal.value)
    if refusal is not None:
        raise GradedAttemptKept(refusal.value)


def record_score(ctx: ServiceContext, item_pk: int, body: Any) -> Score:
    """Store a score unless a newer one is stored; keep every applied score.

    The reads happen before the write transaction so that SQLite's write lock is held only
    for the conditional UPDATE (or INSERT) and the history row.
    """
    data = ags.parse_score(body)
    item = get_line_item(ctx, item_pk, cached=True)
    user_pk = _learner_pk(ctx, data.user_id)
    fields: dict[str, Any] = {
        "score_given": data.score_given,
        "score_maximum": data.score_maximum,
        "activity_progress": data.activity_progress,
        "grading_progress": data.grading_progress,
        "comment": data.comment,
        "timestamp": data.timestamp,
    }
    assignment = (
        Assignment.objects.filter(pk=item.assignment_id).first() if item.assignment_id else None
    )
    try:
        with serialized_writes(), transaction.atomic():
            if assignment is not None:
                _check_submission(assignment, item.pk, user_pk, data.timestamp)
            updated = Score.objects.filter(
                line_item_id=item.pk, user_id=user_pk, timestamp__lte=data.timestamp
            ).update(**fields, updated_at=timezone.now())
            if not updated:
                stored = (
                    Score.objects.filter(line_item_id=item.pk, user_id=user_pk)
                    .values_list("timestamp", flat=True)
                    .first()
                )
                if stored is not None:
                    raise StaleScore(
                        "a score with a later timestamp is already stored for this user "
                        f"({ags.format_datetime(stored)})"
                    )
                Score.objects.create(line_item_id=item.pk, user_id=user_pk, **fields)
            history = ScoreEvent.objects.create(line_item_id=item.pk, user_id=user_pk, **fields)
            events.publish(
                "score.recorded",
                {
                    "score_event_id": history.pk,
                    "line_item_id": item.pk,
                    "label": item.label,
                    "school_class_id": ctx.school_class.pk,
                    "deployment_pk": ctx.deployment.pk,
                    "assignment_resource_link_id": (
                        str(assignment.resource_link_id) if assignment is not None else None
                    ),
                    "curriculum_codes": list(assignment.curriculum_codes) if assignment else [],
                    "user_id": user_pk,
                    "user_uuid": str(uuid.UUID(data.user_id)),
                    "score_given": data.score_given,
                    "score_maximum": data.score_maximum,
                    "activity_progress": data.activity_progress,
                    "grading_progress": data.grading_progress,
                    "comment": data.comment,
                    "timestamp": ags.format_datetime(data.timestamp),
                },
            )
    except IntegrityError as exc:  # the line item was deleted, or a racing first score won
        if not LineItem.objects.filter(pk=item.pk).exists():
            raise NotFound("no such line item") from exc
        raise StaleScore("another score for this user was stored at the same moment") from exc
    return Score(line_item=item, user_id=user_pk, **fields)


def list_results(
    ctx: ServiceContext, item_pk: int, *, user_id: str | None, offset: int, limit: int
) -> tuple[list[dict[str, Any]], bool]:
    item = get_line_item(ctx, item_pk)
    scores = Score.objects.filter(line_item=item).select_related("user").order_by("pk")
    if user_id is not None:
        key = _uuid_or_none(user_id)
        scores = scores.filter(user__eportal_uuid=key) if key else scores.none()
    page = list(scores[offset : offset + limit + 1])
    url = ctx.line_item_url(item)
    results = [
        ags.result_json(
            line_item_url=url,
            user_id=str(s.user.eportal_uuid),
            score_given=s.score_given,
            score_maximum=s.score_maximum,
            line_item_maximum=item.score_maximum,
            comment=s.comment,
            timestamp=s.timestamp,
        )
        for s in page[:limit]
    ]
    return results, len(page) > limit


def line_item_for_launch(
    deployment: Deployment, placement: Placement, school_class: SchoolClass
) -> str | None:
    """The line item URL for a resource link launch, when exactly one exists."""
    from .config_cache import config_cache

    item = config_cache.launch_line_item(deployment.pk, placement.pk, school_class.pk)
    if item is None:
        return None
    return f"{lineitems_url_for(deployment, school_class)}/{item}"


def line_item_for_assignment(
    deployment: Deployment, assignment: Assignment, school_class: SchoolClass
) -> str | None:
    """The line item URL for an assignment's launch, when exactly one exists."""
    ids = list(
        LineItem.objects.filter(
            deployment=deployment, assignment=assignment, school_class=school_class
        ).values_list("pk", flat=True)[:2]
    )
    if len(ids) != 1:
        return None
    return f"{lineitems_url_for(deployment, school_class)}/{ids[0]}"
