"""LTI launch actions: start a launch (login initiation) and answer the authentication request.

Views call these; they return data, never HttpResponse.
"""

from __future__ import annotations

import datetime
import hashlib
import random
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

import events
from assignments import services as assignment_rules
from assignments.models import Assignment, Target
from dbtools import busy
from dbtools.writelock import serialized_writes
from roster import membership
from roster.models import RosterRole, SchoolClass, User
from tools_registry import grants, visibility
from tools_registry.models import (
    Deployment,
    Placement,
    Registration,
    Service,
)

from . import ags, nrps, roles, roster_data
from .config_cache import config_cache
from .errors import AssignmentClosed, DeepLinkingNotAllowed, LaunchNotAllowed
from .keys import key_ring
from .models import DeepLinkingRequest, OneTimeToken
from .protocol import claims, hints, oidc
from .protocol import deep_linking as dl
from .protocol.ags import format_datetime
from .protocol.errors import AuthError, InvalidHintError, UntrustedRedirectError

PRODUCT_VERSION = "0.1.0"

# The clock; tests replace it to exercise expiry.
clock: Callable[[], float] = time.time


def _secret(purpose: str) -> bytes:
    return hashlib.sha256(f"manabi-hub:{purpose}:{settings.SECRET_KEY}".encode()).digest()


_CONSUME_SQL = f'INSERT INTO {OneTimeToken._meta.db_table} ("key", "expires_at") VALUES (%s, %s)'  # noqa: S608


def consume_once(
    key: str,
    *,
    expires_at: datetime.datetime,
    event: tuple[str, Mapping[str, object]] | None = None,
) -> bool:
    """Record ``key`` as used; return False if it was used before (atomic across processes).

    ``event`` (kind, payload) is published in the same transaction, only on first use.
    """
    try:
        with serialized_writes(), transaction.atomic(), connection.cursor() as cursor:
            # Hand-written (hot path, as roster.membership's queries); the primary key makes it
            # single-use.
            cursor.execute(
                _CONSUME_SQL, [key, connection.ops.adapt_datetimefield_value(expires_at)]
            )
            if event is not None:
                events.publish(*event)
    except IntegrityError:
        return False
    if random.random() < 1 / 256:  # noqa: S311  (housekeeping, not security)
        OneTimeToken.objects.filter(expires_at__lt=timezone.now()).delete()
    return True


# --- who may launch what ---------------------------------------------------------------------


@dataclass(frozen=True)
class Tile:
    placement: Placement
    school_class: SchoolClass


def launch_tiles(user: User) -> list[Tile]:
    """Return the tools a user can launch, one tile per (placement, class), in two queries.

    A student sees each placed tool once, in the context of the class it is placed for or of
    their homeroom. A staff member sees the tools of every class they teach.
    """
    classes = [e.school_class for e in membership.enrollments_of(user)]
    staff = user.role != RosterRole.STUDENT
    by_class = visibility.visible_by_class(classes, staff=staff)
    tiles: list[Tile] = []
    if not staff:
        seen: set[int] = set()
        classes.sort(key=lambda k: (k.pk != user.home_class_id, k.pk))
        for school_class in classes:
            for placement in by_class[school_class.pk]:
                if placement.pk not in seen:
                    seen.add(placement.pk)
                    tiles.append(Tile(placement, school_class))
    else:
        for school_class in classes:
            tiles.extend(Tile(p, school_class) for p in by_class[school_class.pk])
    return tiles


@dataclass(frozen=True)
class Authorized:
    """A resource link the user may launch in a class: a placement or an assignment."""

    placement: Placement | None
    school_class: SchoolClass
    roster_role: str
    deployment: Deployment
    assignment: Assignment | None = None

    @property
    def resource_link_id(self) -> uuid.UUID:
        link = self.placement or self.assignment
        assert link is not None  # noqa: S101  (one of the two is always set)
        return link.resource_link_id


def _membership(user: User, class_id: str) -> tuple[SchoolClass, str] | None:
    """The class and the user's active roster role in it (the enrollment is never cached)."""
    try:
        key = uuid.UUID(class_id)
    except ValueError:
        return None
    school_class = config_cache.school_class(key)
    if school_class is None:
        return None
    role = membership.role_in_class(user.pk, school_class.pk)
    return None if role is None else (school_class, role)


def authorize_placement(
    user: User,
    resource_link_id: str,
    class_id: str,
    *,
    registration: Registration | None = None,
    deployment_id: str | None = None,
) -> Authorized:
    """The one access check of a launch: two queries, or LaunchNotAllowed.

    The resource link is a placement (``tools_registry.visibility``) or an assignment of the
    class (``assignments.services.launchable``).
    """
    membership = _membership(user, class_id)
    if membership is None:
        raise LaunchNotAllowed("you are not a member of this class")
    school_class, roster_role = membership
    try:
        link_key = uuid.UUID(resource_link_id)
    except ValueError as exc:
        raise LaunchNotAllowed("this tool is not placed for this class") from exc
    staff = roster_role != RosterRole.STUDENT
    placement = config_cache.placement(link_key)
    assignment = None
    if placement is not None:
        if not visibility.is_visible(placement, school_class, staff=staff):
            raise LaunchNotAllowed("this tool is not placed for this class")
        deployment = placement.deployment
    else:
        assignment = (
            Assignment.objects.select_related("deployment__registration__tool")
            .filter(resource_link_id=link_key)
            .first()
        )
        refusal = assignment_rules.launch_refusal(assignment, school_class, staff=staff)
        if refusal == "not_found" or assignment is None:
            raise LaunchNotAllowed("this tool is not placed for this class")
        if isinstance(refusal, assignment_rules.WindowClosed):  # a page says when (403)
            raise AssignmentClosed(refusal)
        deployment = assignment.deployment
    if (registration is not None and deployment.registration_id != registration.pk) or (
        deployment_id is not None and deployment.deployment_id != deployment_id
    ):
        raise LaunchNotAllowed("this tool is not placed for this class")
    return Authorized(placement, school_class, roster_role, deployment, assignment)


def _target_link_uri(allowed: Authorized) -> str:
    if allowed.assignment is not None and allowed.assignment.url:
        return allowed.assignment.url
    if allowed.placement is not None and allowed.placement.target_link_uri:
        return allowed.placement.target_link_uri
    return allowed.deployment.registration.target_link_uri


def start_launch(*, acting_user: User, resource_link_id: str, class_id: str) -> str:
    """Return the tool's third-party initiated login URL for this launch (LTI Core §4.1)."""
    allowed = authorize_placement(acting_user, resource_link_id, class_id)
    url = _login_initiation(acting_user, allowed, _target_link_uri(allowed))
    if allowed.assignment is not None and allowed.assignment.target == Target.IFRAME:
        # Platform storage (client-side postMessages): the portal page holding the iframe
        # (portal.assignment_frame) answers lti.get_data / lti.put_data itself.
        url += "&" + urlencode({"lti_storage_target": STORAGE_TARGET})
    return url


# The frame that answers platform-storage messages: the tool's parent, our portal page.
STORAGE_TARGET = "_parent"


def start_deep_linking(
    *, acting_user: User, resource_link_id: str, class_id: str, accept_multiple: bool = True
) -> str:
    """Return the login initiation URL of an LtiDeepLinkingRequest (Deep Linking 2.0 §4.4):
    a teacher of the class picks content in a tool placed there, whose registration has a
    deep-linking URL."""
    allowed = _deep_linking_allowed(acting_user, resource_link_id, class_id)
    return _login_initiation(
        acting_user,
        allowed,
        allowed.deployment.registration.deep_linking_url,
        deep_linking=True,
        accept_multiple=accept_multiple,
    )


def _deep_linking_allowed(
    user: User,
    resource_link_id: str,
    class_id: str,
    *,
    registration: Registration | None = None,
    deployment_id: str | None = None,
) -> Authorized:
    allowed = authorize_placement(
        user, resource_link_id, class_id, registration=registration, deployment_id=deployment_id
    )
    if allowed.roster_role == RosterRole.STUDENT:
        raise DeepLinkingNotAllowed("only the class's teachers can assign content from a tool")
    if (
        allowed.placement is None
        or Service.DEEP_LINKING not in grants.deployment_grant(allowed.deployment).services
    ):
        raise LaunchNotAllowed("this tool offers no content to assign (no deep-linking URL)")
    return allowed


def _login_initiation(
    user: User,
    allowed: Authorized,
    target_link_uri: str,
    *,
    deep_linking: bool = False,
    accept_multiple: bool = True,
) -> str:
    deployment = allowed.deployment
    registration = deployment.registration
    token, _hint = hints.make_message_hint(
        user=str(user.eportal_uuid),
        client_id=registration.client_id,
        deployment_id=deployment.deployment_id,
        placement=str(allowed.resource_link_id),
        context=str(allowed.school_class.sourced_id),
        now=int(clock()),
        lifetime=settings.LTI_MESSAGE_HINT_LIFETIME,
        secret=_secret("lti_message_hint"),
        deep_linking=deep_linking,
        accept_multiple=accept_multiple,
    )
    return oidc.login_initiation_url(
        registration.initiate_login_uri,
        issuer=settings.LTI_ISSUER,
        login_hint=hints.login_hint_for(str(user.eportal_uuid), secret=_secret("login_hint")),
        target_link_uri=target_link_uri,
        client_id=registration.client_id,
        deployment_id=deployment.deployment_id,
        lti_message_hint=token,
    )


# --- the authentication request -----------------------------------------------------------------


@dataclass(frozen=True)
class FormPost:
    """An auto-submitting form_post to a trusted redirect_uri (id_token or error)."""

    action: str
    fields: dict[str, str]


def _platform_info() -> claims.PlatformInfo:
    return claims.PlatformInfo(
        issuer=settings.LTI_ISSUER,
        guid=settings.LTI_PLATFORM_GUID,
        name=settings.LTI_PLATFORM_NAME,
        contact_email=settings.LTI_PLATFORM_CONTACT_EMAIL,
        url=settings.LTI_ISSUER + "/",
        version=PRODUCT_VERSION,
    )


def _registration_for(client_id: str) -> Registration | None:
    if not client_id or len(client_id) > 64:
        return None
    return config_cache.registration(client_id)


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


# Resolves a verified submission-review hint into its Launch (``submission_review.resolve``;
# passed in by the view, since that module builds on this one).
ReviewResolver = Callable[
    [User, hints.MessageHint, oidc.AuthRequest, Registration, str, str], claims.Launch
]


def authorize_launch(
    *,
    acting_user: User | None,
    params: Mapping[str, str],
    locale: str,
    return_url: str,
    review: ReviewResolver | None = None,
) -> FormPost:
    """Answer an OIDC authentication request with an id_token or an error form_post.

    Raise UntrustedRedirectError when the redirect_uri cannot be trusted (the caller shows
    an error page); every other failure is a FormPost carrying error/error_description/state.
    """
    registration = _registration_for(params.get("client_id", ""))
    try:
        request = oidc.parse_auth_request(
            params,
            registered_redirect_uris=list(registration.redirect_uris) if registration else None,
        )
    except AuthError as exc:  # the redirect_uri is trusted from here on
        return FormPost(
            params["redirect_uri"],
            oidc.error_params(exc.error, exc.description, params.get("state")),
        )
    if registration is None:  # parse_auth_request raised for an unknown client
        raise UntrustedRedirectError("client_id is unknown or not active")
    try:
        launch = _resolve_launch(acting_user, request, registration, locale, return_url, review)
    except AuthError as exc:
        return FormPost(
            request.redirect_uri, oidc.error_params(exc.error, exc.description, request.state)
        )
    now = int(clock())
    build = claims.deep_linking_claims if launch.deep_linking else claims.resource_link_claims
    if launch.for_user is not None:  # an LtiSubmissionReviewRequest
        build = claims.submission_review_claims
    payload = build(launch, now=now, lifetime=settings.LTI_ID_TOKEN_LIFETIME)
    id_token = key_ring.signing_key().sign(payload)
    fields = {"id_token": id_token}
    if request.state is not None:
        fields["state"] = request.state
    return FormPost(request.redirect_uri, fields)


def _resolve_launch(
    user: User | None,
    request: oidc.AuthRequest,
    registration: Registration,
    locale: str,
    return_url: str,
    review: ReviewResolver | None = None,
) -> claims.Launch:
    if user is None or not user.is_authenticated or not user.is_active:
        raise AuthError("login_required", "the user is not signed in to the platform")
    user_key = str(user.eportal_uuid)
    if not hints.login_hint_matches(request.login_hint, user_key, secret=_secret("login_hint")):
        raise AuthError("login_required", "login_hint does not match the signed-in user")
    try:
        hint = hints.read_message_hint(
            request.lti_message_hint, now=int(clock()), secret=_secret("lti_message_hint")
        )
    except InvalidHintError as exc:
        raise AuthError("invalid_request", exc.description) from exc
    if hint.user != user_key:
        raise AuthError("login_required", "lti_message_hint was issued to another user")
    if hint.client_id != registration.client_id:
        raise AuthError("invalid_request", "lti_message_hint was issued for another client")
    if hint.review_item:  # an LtiSubmissionReviewRequest: its own access check and claims
        if review is None:
            raise AuthError("invalid_request", "submission review is not offered here")
        return review(user, hint, request, registration, locale, return_url)

    check = _deep_linking_allowed if hint.deep_linking else authorize_placement
    try:
        allowed = check(
            user,
            hint.placement,
            hint.context,
            registration=registration,
            deployment_id=hint.deployment_id,
        )
    except (DeepLinkingNotAllowed, AssignmentClosed) as exc:
        raise AuthError("access_denied", exc.description) from exc
    except LaunchNotAllowed as exc:
        if not _link_exists(hint.placement, registration):
            raise AuthError(
                "invalid_request", "the launch named by lti_message_hint no longer exists"
            ) from exc
        raise AuthError("access_denied", exc.description) from exc
    school_class, roster_role = allowed.school_class, allowed.roster_role
    event: tuple[str, Mapping[str, object]] | None = None
    if not hint.deep_linking:
        event = (
            "launch.made",
            {
                "user_id": user.pk,
                "user_uuid": str(user.eportal_uuid),
                "grade": user.grade,
                "launch_id": hint.jti,
                "resource_link_id": str(allowed.resource_link_id),
                "title": allowed.placement.title if allowed.placement is not None else "",
                "assignment_title": (
                    allowed.assignment.title if allowed.assignment is not None else None
                ),
                "curriculum_codes": (
                    list(allowed.assignment.curriculum_codes) if allowed.assignment else []
                ),
                "school_class_id": school_class.pk,
                "class_sourced_id": str(school_class.sourced_id),
                "deployment_pk": allowed.deployment.pk,
                "deployment_id": allowed.deployment.deployment_id,
                "timestamp": format_datetime(
                    datetime.datetime.fromtimestamp(clock(), tz=datetime.UTC)
                ),
            },
        )
    consume_hint(hint, event=event)

    deployment = allowed.deployment
    ags_endpoint, nrps_url = _service_claims(
        registration, allowed, with_line_item=not hint.deep_linking
    )
    placement, assignment = allowed.placement, allowed.assignment
    settings_claim = None
    extra: dict[str, str | None] = {}
    if hint.deep_linking:
        assert placement is not None  # noqa: S101  (_deep_linking_allowed)
        settings_claim = _deep_linking_request(user, allowed, hint.accept_multiple)
        resource_link = claims.ResourceLink(id="", title="")
        target = registration.deep_linking_url
        extra = {"$ResourceLink.id": None, "$ResourceLink.title": None}
        extra["$ResourceLink.description"] = None
        custom = dict(registration.custom_parameters)
    elif assignment is not None:
        resource_link = assignment_resource_link(assignment)
        target = _target_link_uri(allowed)
        custom = {**registration.custom_parameters, **assignment.custom_parameters}
    else:
        assert placement is not None  # noqa: S101  (one of the two is set)
        resource_link = roster_data.resource_link(placement)
        target = _target_link_uri(allowed)
        custom = roster_data.custom_parameters(registration, placement)
    return launch_claims(
        user=user,
        roster_role=roster_role,
        registration=registration,
        deployment=deployment,
        school_class=school_class,
        request=request,
        locale=locale,
        return_url=return_url,
        resource_link=resource_link,
        target_link_uri=target,
        custom=custom,
        ags=ags_endpoint,
        nrps_url=nrps_url,
        extra_variables=extra,
        document_target=assignment.target if assignment is not None else "window",
        deep_linking=settings_claim,
    )


def consume_hint(
    hint: hints.MessageHint, *, event: tuple[str, Mapping[str, object]] | None = None
) -> None:
    """Use up a verified message hint (single use across processes), publishing ``event`` in
    the same transaction; AuthError when it was used before or the database is busy."""
    expires = datetime.datetime.fromtimestamp(hint.expires_at, tz=datetime.UTC)
    try:
        first_use = consume_once("hint:" + hint.jti, expires_at=expires, event=event)
    except OperationalError as exc:
        if not busy.is_busy(exc):  # a real fault: the 500 path logs it with its traceback
            raise
        raise AuthError("temporarily_unavailable", "the platform is busy; try again") from exc
    if not first_use:
        raise AuthError("invalid_request", "lti_message_hint has already been used")


def assignment_resource_link(assignment: Assignment) -> claims.ResourceLink:
    """An assignment as the ``resource_link`` claim names it (its own resource link)."""
    return claims.ResourceLink(
        id=str(assignment.resource_link_id), title=assignment.title, description=assignment.text
    )


def launch_claims(
    *,
    user: User,
    roster_role: str,
    registration: Registration,
    deployment: Deployment,
    school_class: SchoolClass,
    request: oidc.AuthRequest,
    locale: str,
    return_url: str,
    resource_link: claims.ResourceLink,
    target_link_uri: str,
    custom: dict[str, str],
    ags: claims.AgsEndpoint | None,
    nrps_url: str | None,
    **more: Any,
) -> claims.Launch:
    """The one builder of a launch's claims (resource link, deep-linking and submission-review
    launches): who, where, with which privacy, roles and grade; ``more`` adds the message's
    own fields (``deep_linking``, ``for_user``, ``document_target``, ``extra_variables``)."""
    shared = roster_data.privacy(deployment)
    return claims.Launch(
        platform=_platform_info(),
        client_id=registration.client_id,
        deployment_id=deployment.deployment_id,
        target_link_uri=target_link_uri,
        person=roster_data.person(user),
        roles=roles.launch_roles(user.role, roster_role),
        context=roster_data.context(school_class),
        resource_link=resource_link,
        nonce=request.nonce,
        locale=locale,
        return_url=return_url,
        share_name=shared.share_name,
        share_email=shared.share_email,
        grade=roster_data.grade(user, school_class),
        custom=custom,
        ags=ags,
        nrps_url=nrps_url,
        **more,
    )


def _link_exists(resource_link_id: str, registration: Registration) -> bool:
    """Whether the resource link a hint names still exists for the tool (a placement or an
    assignment not deleted), to tell "gone" from "not for you"."""
    link_key = _uuid_or_none(resource_link_id)
    if link_key is None:
        return False
    return (
        Placement.objects.filter(
            resource_link_id=link_key, deployment__registration=registration
        ).exists()
        or Assignment.objects.filter(
            resource_link_id=link_key,
            deployment__registration=registration,
            deleted_at__isnull=True,
        ).exists()
    )


def deep_linking_data_secret() -> bytes:
    return _secret("deep_linking_data")


def _deep_linking_request(user: User, allowed: Authorized, accept_multiple: bool) -> dl.Settings:
    """Write the single-use record behind ``data`` and return the request's settings."""
    from django.urls import reverse

    assert allowed.placement is not None  # noqa: S101
    key = uuid.uuid4().hex
    lifetime = int(getattr(settings, "LTI_DEEP_LINKING_LIFETIME", 3600))
    DeepLinkingRequest.objects.create(
        key=key,
        user=user,
        school_class=allowed.school_class,
        deployment=allowed.deployment,
        registration=allowed.deployment.registration,
        accept_multiple=accept_multiple,
        expires_at=datetime.datetime.fromtimestamp(clock() + lifetime, tz=datetime.UTC),
    )
    return dl.Settings(
        deep_link_return_url=settings.LTI_ISSUER + reverse("lti_platform:deep_linking_return"),
        data=dl.make_data(key, secret=deep_linking_data_secret()),
        title=allowed.placement.title,
        text=allowed.school_class.title,
        accept_multiple=accept_multiple,
        accept_presentation_document_targets=dl.accept_targets(
            platform_storage=allowed.deployment.registration.platform_storage
        ),
    )


def _launch_line_item(allowed: Authorized) -> str | None:
    deployment, school_class = allowed.deployment, allowed.school_class
    if allowed.assignment is None:
        assert allowed.placement is not None  # noqa: S101
        return ags.line_item_for_launch(deployment, allowed.placement, school_class)
    return ags.line_item_for_assignment(deployment, allowed.assignment, school_class)


def _service_claims(
    registration: Registration, allowed: Authorized, *, with_line_item: bool
) -> tuple[claims.AgsEndpoint | None, str | None]:
    """The AGS and NRPS endpoints the deployment grants (``tools_registry.grants``) in its
    launches, the AGS claim with the granted scopes only (a deep-linking request gets the
    line items URL without a ``lineitem``)."""
    deployment, school_class = allowed.deployment, allowed.school_class
    grant = grants.deployment_grant(deployment, registration)
    services = grant.services
    ags_endpoint = nrps_url = None
    if services & {Service.AGS, Service.NRPS}:
        ctx = ags.ServiceContext(deployment, school_class)
        if Service.AGS in services:
            ags_endpoint = claims.AgsEndpoint(
                scopes=grant.ags_scopes,
                lineitems=ctx.lineitems_url,
                lineitem=_launch_line_item(allowed) if with_line_item else None,
            )
        if Service.NRPS in services:
            nrps_url = nrps.memberships_url(ctx)
    return ags_endpoint, nrps_url


__all__ = [
    "FormPost",
    "Tile",
    "UntrustedRedirectError",
    "authorize_launch",
    "consume_once",
    "launch_tiles",
    "start_deep_linking",
    "start_launch",
]
