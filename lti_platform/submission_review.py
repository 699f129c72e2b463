"""LTI Submission Review 1.0: a teacher opens a child's attempt in the tool from the gradebook.

A line item whose tool declared ``submissionReview`` (AGS line-item create/update or a
deep-linking ``lineItem``) offers the review of each child's score whose activityProgress is
one of its ``reviewableStatus`` (any score when absent or "Any"). The request goes through the
same login initiation and ``/lti/authorize`` as a launch; the message hint names the line item
and the child, and ``review_allowed`` is checked at both ends: the user teaches the line item's
class (a student is refused, anyone else gets "not found"), the tool is placed there, and the
child is an active learner of the class with a reviewable score.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from http import HTTPStatus

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from roster import membership
from roster.models import RosterRole, SchoolClass, User
from tools_registry import grants, visibility
from tools_registry.models import Deployment, Registration, Service

from . import ags, nrps, rendering, roles, roster_data, services
from .config_cache import config_cache
from .errors import LaunchNotAllowed, MethodNotAllowed, NotFound, PlatformError
from .models import LineItem, Score
from .protocol import claims, hints, oidc
from .protocol.constants import REVIEWABLE_ANY
from .protocol.errors import AuthError


class SubmissionReviewNotAllowed(PlatformError):
    """Only a teacher of the class may open a child's submission, and only a learner's."""

    error = "access_denied"
    status = HTTPStatus.FORBIDDEN


@dataclass(frozen=True)
class Review:
    line_item: LineItem
    school_class: SchoolClass
    roster_role: str
    deployment: Deployment
    learner: User

    @property
    def resource_link_id(self) -> str:
        item = self.line_item
        link = item.placement or item.assignment
        return str(link.resource_link_id) if link is not None else ""


def reviewable(item: LineItem, score: Score | None) -> bool:
    """Whether the child's score can be reviewed in the tool (LTI Submission Review §2)."""
    review = item.submission_review
    if review is None or score is None:
        return False
    statuses = review.get("reviewableStatus")
    return not statuses or REVIEWABLE_ANY in statuses or score.activity_progress in statuses


def review_allowed(
    user: User,
    line_item_pk: int,
    learner_id: str,
    *,
    registration: Registration | None = None,
    deployment_id: str | None = None,
) -> Review:
    """The access check of a submission review, at the start and at /lti/authorize."""
    item = (
        LineItem.objects.select_related(
            "deployment__registration", "school_class__school", "placement", "assignment"
        )
        .filter(pk=line_item_pk)
        .first()
    )
    # Submission review names the line item by the AGS claim: a deployment that does not
    # grant AGS (``tools_registry.grants``) offers none.
    if (
        item is None
        or item.submission_review is None
        or Service.AGS not in grants.deployment_grant(item.deployment).services
    ):
        raise NotFound("this grade column offers no submission review")
    school_class = item.school_class
    role = membership.role_in_class(user.pk, school_class.pk)
    if role is None:
        raise NotFound("this grade column offers no submission review")
    if role == RosterRole.STUDENT:
        raise SubmissionReviewNotAllowed("only the class's teachers can open a child's submission")
    deployment = item.deployment
    if (
        (registration is not None and deployment.registration_id != registration.pk)
        or (deployment_id is not None and deployment.deployment_id != deployment_id)
        or not visibility.deployment_placed_in(
            config_cache.placements_of(deployment.pk), school_class
        )
    ):
        raise LaunchNotAllowed("this tool is not placed for this class")
    try:
        learner_key = uuid.UUID(learner_id)
    except ValueError:
        learner_key = None
    learner_pk = (
        membership.member_pk(learner_key, school_class.pk, roles=roles.LEARNER_ROSTER_ROLES)
        if learner_key
        else None
    )
    if learner_pk is None:
        raise SubmissionReviewNotAllowed("this person is not a learner of this class")
    if not reviewable(item, Score.objects.filter(line_item=item, user_id=learner_pk).first()):
        raise SubmissionReviewNotAllowed("this child has no submission to review yet")
    return Review(item, school_class, role, deployment, User.objects.get(pk=learner_pk))


def _target_link_uri(review: Review) -> str:
    url = (review.line_item.submission_review or {}).get("url")
    return str(url) if url else review.deployment.registration.target_link_uri


def start_review(*, acting_user: User, line_item_pk: int, learner_id: str) -> str:
    """Return the tool's login initiation URL of an LtiSubmissionReviewRequest."""
    review = review_allowed(acting_user, line_item_pk, learner_id)
    deployment = review.deployment
    registration = deployment.registration
    token, _hint = hints.make_message_hint(
        user=str(acting_user.eportal_uuid),
        client_id=registration.client_id,
        deployment_id=deployment.deployment_id,
        placement=review.resource_link_id,
        context=str(review.school_class.sourced_id),
        now=int(services.clock()),
        lifetime=settings.LTI_MESSAGE_HINT_LIFETIME,
        secret=services._secret("lti_message_hint"),
        review_item=review.line_item.pk,
        review_for=str(review.learner.eportal_uuid),
    )
    return oidc.login_initiation_url(
        registration.initiate_login_uri,
        issuer=settings.LTI_ISSUER,
        login_hint=hints.login_hint_for(
            str(acting_user.eportal_uuid), secret=services._secret("login_hint")
        ),
        target_link_uri=_target_link_uri(review),
        client_id=registration.client_id,
        deployment_id=deployment.deployment_id,
        lti_message_hint=token,
    )


def resolve(
    user: User,
    hint: hints.MessageHint,
    request: oidc.AuthRequest,
    registration: Registration,
    locale: str,
    return_url: str,
) -> claims.Launch:
    """The Launch of a verified review hint (``services._resolve_launch`` checked the user,
    the login_hint and the client): check access again, consume the hint, build the claims."""
    try:
        review = review_allowed(
            user,
            hint.review_item,
            hint.review_for,
            registration=registration,
            deployment_id=hint.deployment_id,
        )
    except SubmissionReviewNotAllowed as exc:
        raise AuthError("access_denied", exc.description) from exc
    except NotFound as exc:
        raise AuthError("access_denied", exc.description) from exc
    services.consume_hint(hint)

    item, school_class, deployment = review.line_item, review.school_class, review.deployment
    custom = dict(registration.custom_parameters)
    if item.placement is not None:
        resource_link = roster_data.resource_link(item.placement)
        custom.update(roster_data.custom_parameters(registration, item.placement))
    elif item.assignment is not None:
        resource_link = services.assignment_resource_link(item.assignment)
        custom.update(item.assignment.custom_parameters)
    else:
        resource_link = claims.ResourceLink(id="", title=item.label)
    custom.update((item.submission_review or {}).get("custom") or {})
    grant = grants.deployment_grant(deployment, registration)
    services_allowed = grant.services
    ctx = ags.ServiceContext(deployment, school_class)
    # Always sent: the reviewed line item is named by the AGS claim (Submission Review §3).
    ags_endpoint = claims.AgsEndpoint(
        scopes=grant.ags_scopes, lineitems=ctx.lineitems_url, lineitem=ctx.line_item_url(item)
    )
    learner = review.learner
    return services.launch_claims(
        user=user,
        roster_role=review.roster_role,
        registration=registration,
        deployment=deployment,
        school_class=school_class,
        request=request,
        locale=locale,
        return_url=return_url,
        resource_link=resource_link,
        target_link_uri=_target_link_uri(review),
        custom=custom,
        ags=ags_endpoint,
        nrps_url=nrps.memberships_url(ctx) if Service.NRPS in services_allowed else None,
        for_user=claims.ForUser(
            person=roster_data.person(learner),
            roles=roles.launch_roles(learner.role, RosterRole.STUDENT),
        ),
    )


@csrf_exempt  # GET only, as ``views.launch``
@login_required
@never_cache
def start_view(request: HttpRequest, line_item: int, learner_id: uuid.UUID) -> HttpResponse:
    """「提出物を見る」: send the teacher's browser to the tool's login initiation URL."""
    assert isinstance(request.user, User)  # noqa: S101  (login_required)
    if request.method not in ("GET", "HEAD"):
        return rendering.json_error(MethodNotAllowed(("GET", "HEAD")))
    try:
        url = start_review(
            acting_user=request.user, line_item_pk=line_item, learner_id=str(learner_id)
        )
    except PlatformError as exc:
        return rendering.error_page(request, exc)
    return HttpResponseRedirect(url)
