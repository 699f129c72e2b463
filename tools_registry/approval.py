"""A board approves, rejects and deploys tools; a school places them: the administrators' actions.

**Who sees what (the rule for now).** A vendor registers a tool once for the whole platform, so
every board administrator sees every pending registration and may decide it; the first board's
decision holds for every board (the registration has one status, one privacy level and one set
of granted services). Each board then deploys an approved tool to itself (all its schools) or
to chosen schools of its own, and a school's administrators place a deployment covering their
school for the school or for one of its classes.

**The overlay.** What a tool asked for is its Dynamic Registration's client metadata (scopes,
claims, messages) or, for a registration made otherwise, its stored services and privacy level
(``asked``). A board grants a part of it: ``Registration.allowed_services`` becomes the granted
services — what the launch's service claims (``lti_platform.services._service_claims``) and the
token endpoint's scopes (``lti_platform.tokens.allowed_scopes``) read —, ``privacy_level`` the
granted level (``lti_platform.roster_data.privacy``), and the deep-linking URL is kept only when
Deep Linking is granted (the launch offers deep linking only with one). Each board's deployment
may then narrow that grant for its schools (``deploy``'s ``privacy_level`` and
``granted_services``: ``Deployment.effective_privacy_level`` and
``tools_registry.models.effective_services``, which the launch, AGS, NRPS and submission review
read). Nothing asked but not granted is sent; nothing not asked can be granted; a deployment
never gets more than its registration.

Every action checks access through ``roster.administration`` (``NotAdministered``, the same for
missing and forbidden), runs atomically under ``serialized_writes()`` and records each change in
the audit trail with its values before and after. Refusals raise an ``ApprovalError`` and
write nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from django.db import transaction
from django.db.models import Prefetch, Q, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from audit import trail
from dbtools.writelock import serialized_writes
from lti_platform.protocol import constants as c
from roster import administration
from roster.administration import AnyUser, NotAdministered
from roster.models import Org, OrgType, SchoolClass, User

from .errors import RegistryError
from .models import (
    Deployment,
    Placement,
    PrivacyLevel,
    Registration,
    RegistrationStatus,
    Service,
    registration_services,
)
from .services import default_deployment_id
from .visibility import Audience, deployment_covers

MAX_REASON = 2000  # characters of a rejection reason

PRIVACY_ORDER = (PrivacyLevel.ID_ONLY, PrivacyLevel.NAME, PrivacyLevel.NAME_EMAIL)
NAME_CLAIMS = frozenset({"name", "given_name", "family_name", "middle_name", "nickname"})
EMAIL_CLAIMS = frozenset({"email"})
AUDIENCES = (Audience.ALL, Audience.STUDENTS, Audience.STAFF)


class ApprovalError(RegistryError):
    """Base of this module's refusals; each carries its code, HTTP status and a message."""

    code = "refused"
    status = HTTPStatus.BAD_REQUEST
    message: str | Promise = _("この操作はできません。")

    def __init__(self, message: str | Promise | None = None) -> None:
        if message is not None:
            self.message = message
        super().__init__(str(self.message))


class NotPending(ApprovalError):
    code = "not_pending"
    status = HTTPStatus.CONFLICT
    message = _("この登録は承認待ちではありません。")


class NotApproved(ApprovalError):
    code = "not_approved"
    status = HTTPStatus.CONFLICT
    message = _("承認されていないツールは配備できません。")


class NotAsked(ApprovalError):
    """A grant wider than the request: a service or personal data the tool did not ask for."""

    code = "not_asked"
    message = _("ツールが求めていないものは許可できません。")


class DeployedElsewhere(ApprovalError):
    """A grant change of an approved tool that other boards use: it would change what their
    schools send the tool (their children's names) without them."""

    code = "deployed_elsewhere"
    status = HTTPStatus.CONFLICT
    message = _(
        "このツールはほかの教育委員会でも使われているため、許可の内容はここでは変えられません。"
    )


class NotGranted(ApprovalError):
    """A deployment's grant wider than the registration's: more than the approval allows."""

    code = "not_granted"
    message = _("承認された内容より多くは、この配備で許可できません。")


class InvalidChoice(ApprovalError):
    code = "invalid_choice"
    message = _("選んだ値が正しくありません。")


class ReasonRequired(ApprovalError):
    code = "reason_required"
    message = _("却下の理由を書いてください（2000文字まで）。")


class NoDeploymentId(ApprovalError):
    code = "no_deployment_id"
    message = _("配備先に学校コード等がないため、配備IDを作れません。")


class DeploymentIdTaken(ApprovalError):
    code = "deployment_id_taken"
    status = HTTPStatus.CONFLICT
    message = _("この配備IDはこのツールのほかの配備先が使っています。")


class AlreadyPlaced(ApprovalError):
    code = "already_placed"
    status = HTTPStatus.CONFLICT
    message = _("このツールはもうそこに配置されています。")


# --- what a tool asks for --------------------------------------------------------------------


@dataclass(frozen=True)
class Asked:
    """What a registration asks for: services (in ``Service`` order), the widest privacy level
    its claims need, and, for the review page, the claims, scopes and messages as asked."""

    services: tuple[str, ...]
    privacy_level: str
    claims: tuple[str, ...]
    scopes: tuple[str, ...]
    messages: tuple[str, ...]
    deep_linking_url: str


def _scopes_by_service() -> dict[str, tuple[str, ...]]:
    from lti_platform.tokens import SCOPES_BY_SERVICE  # the token endpoint's table

    return SCOPES_BY_SERVICE


def asked(registration: Registration) -> Asked:
    """What the registration asks for (see the module's docstring)."""
    metadata = registration.client_metadata
    if not metadata:
        services = set(registration.allowed_services)
        if registration.deep_linking_url:
            services.add(Service.DEEP_LINKING)
        return Asked(
            services=tuple(s for s in Service.values if s in services),
            privacy_level=registration.privacy_level,
            claims=(),
            scopes=(),
            messages=(),
            deep_linking_url=registration.deep_linking_url,
        )
    tool_config = metadata.get(c.TOOL_CONFIGURATION, {})
    scopes = tuple(str(metadata.get("scope", "")).split())
    claims = tuple(str(x) for x in tool_config.get("claims", []))
    messages = [m for m in tool_config.get("messages", []) if isinstance(m, dict)]
    deep_linking = next((m for m in messages if m.get("type") == c.MessageType.DEEP_LINKING), None)
    services = {s for s, offered in _scopes_by_service().items() if set(offered) & set(scopes)}
    if deep_linking is not None:
        services.add(Service.DEEP_LINKING)
    wants_name = bool(NAME_CLAIMS & set(claims))
    wants_email = bool(EMAIL_CLAIMS & set(claims))
    if wants_name and wants_email:
        level = PrivacyLevel.NAME_EMAIL
    elif wants_name:
        level = PrivacyLevel.NAME
    else:
        level = PrivacyLevel.ID_ONLY
    dl_url = ""
    if deep_linking is not None:
        dl_url = str(deep_linking.get("target_link_uri") or registration.target_link_uri)
    return Asked(
        services=tuple(s for s in Service.values if s in services),
        privacy_level=level,
        claims=claims,
        scopes=scopes,
        messages=tuple(str(m.get("type", "")) for m in messages),
        deep_linking_url=dl_url,
    )


def privacy_levels_up_to(level: str) -> list[str]:
    """The privacy levels a board may grant when ``level`` is asked (that one and narrower)."""
    return list(PRIVACY_ORDER[: PRIVACY_ORDER.index(PrivacyLevel(level)) + 1])


# --- what an administrator reads --------------------------------------------------------------


def board_of(acting_user: AnyUser, board_id: uuid.UUID | str) -> Org:
    """The administered board with this sourcedId; ``NotAdministered`` when missing, not a
    board, or not the acting user's."""
    return administration.administered_org(acting_user, board_id, org_type=OrgType.DISTRICT)


def _board_admin(acting_user: AnyUser, board: Org) -> User:
    if (
        not isinstance(acting_user, User)
        or board.type != OrgType.DISTRICT
        or not administration.administers(acting_user, board)
    ):
        raise NotAdministered
    return acting_user


def _school_admin(acting_user: AnyUser, school: Org) -> User:
    if (
        not isinstance(acting_user, User)
        or school.type != OrgType.SCHOOL
        or not administration.administers(acting_user, school)
    ):
        raise NotAdministered
    return acting_user


def _board_scope(board: Org) -> Q:
    return Q(org=board) | Q(org__parent=board, org__type=OrgType.SCHOOL)


def pending_registrations(*, acting_user: AnyUser, board: Org) -> QuerySet[Registration]:
    """The registrations waiting for approval, oldest first. Every pending registration is
    visible to every board administrator (a vendor registers once for the platform)."""
    _board_admin(acting_user, board)
    return (
        Registration.objects.filter(status=RegistrationStatus.PENDING)
        .select_related("tool__vendor")
        .order_by("created_at", "pk")
    )


def decided_registrations(
    *, acting_user: AnyUser, board: Org, status: str
) -> QuerySet[Registration]:
    """Approved (or rejected) registrations by tool name, each with ``board_deployments``:
    its deployments to this board and its schools."""
    _board_admin(acting_user, board)
    deployments = (
        Deployment.objects.filter(_board_scope(board))
        .select_related("org")
        .order_by("org__type", "org__name", "pk")
    )
    return (
        Registration.objects.filter(status=status)
        .select_related("tool__vendor")
        .prefetch_related(Prefetch("deployments", deployments, to_attr="board_deployments"))
        .order_by("tool__name", "pk")
    )


def registration_for_board(*, acting_user: AnyUser, board: Org, pk: int) -> Registration:
    """One registration for a board administrator's review (any, as ``pending_registrations``
    says); ``NotAdministered`` when missing."""
    _board_admin(acting_user, board)
    try:
        return Registration.objects.select_related("tool__vendor").get(pk=pk)
    except Registration.DoesNotExist as e:
        raise NotAdministered from e


def board_deployments(
    *, acting_user: AnyUser, board: Org, registration: Registration
) -> list[Deployment]:
    """The registration's deployments to the board and its schools."""
    _board_admin(acting_user, board)
    return list(
        registration.deployments.filter(_board_scope(board))
        .select_related("org")
        .order_by("org__type", "org__name", "pk")
    )


def deployments_for_school(*, acting_user: AnyUser, school: Org) -> list[Deployment]:
    """The active deployments of active registrations that cover the school (deployed to it
    or to its board), by tool name: what its administrators may place."""
    _school_admin(acting_user, school)
    orgs = [school.pk] + ([school.parent_id] if school.parent_id else [])
    return list(
        Deployment.objects.filter(org__in=orgs, is_active=True, registration__is_active=True)
        .select_related("registration__tool", "org")
        .order_by("registration__tool__name", "pk")
    )


def deployment_for_school(*, acting_user: AnyUser, school: Org, pk: int) -> Deployment:
    """One of ``deployments_for_school``; ``NotAdministered`` when missing or not covering."""
    for deployment in deployments_for_school(acting_user=acting_user, school=school):
        if deployment.pk == pk:
            return deployment
    raise NotAdministered


def placements_in_school(*, acting_user: AnyUser, school: Org) -> list[Placement]:
    """Every placement made for the school or its classes, in display order."""
    _school_admin(acting_user, school)
    return list(
        Placement.objects.filter(school=school)
        .select_related("deployment__registration__tool", "deployment__org", "school_class")
        .order_by("position", "pk")
    )


def placement_in_school(*, acting_user: AnyUser, school: Org, pk: int) -> Placement:
    """One of ``placements_in_school``; ``NotAdministered`` when missing or another school's."""
    _school_admin(acting_user, school)
    try:
        return Placement.objects.select_related("deployment__registration__tool").get(
            pk=pk, school=school
        )
    except Placement.DoesNotExist as e:
        raise NotAdministered from e


# --- actions ---------------------------------------------------------------------------------


def _review_values(registration: Registration) -> dict[str, Any]:
    return {
        "status": registration.status,
        "is_active": registration.is_active,
        "privacy_level": registration.privacy_level,
        "allowed_services": list(registration.allowed_services),
        "deep_linking_url": registration.deep_linking_url,
        "rejection_reason": registration.rejection_reason,
    }


def approve_registration(
    *,
    acting_user: AnyUser,
    registration: Registration,
    board: Org,
    privacy_level: str,
    services: Iterable[str],
) -> Registration:
    """Approve a pending registration (or change an approved one's grant): active, with the
    privacy level and the services granted — each within what the tool asked for.

    Raises ``NotAdministered``, ``InvalidChoice`` (an unknown level or service), ``NotAsked``
    (wider than asked) or ``NotPending`` (a rejected registration)."""
    user = _board_admin(acting_user, board)
    granted = set(services)
    if privacy_level not in PrivacyLevel.values or not granted <= set(Service.values):
        raise InvalidChoice
    with serialized_writes(), transaction.atomic():
        current = Registration.objects.get(pk=registration.pk)
        if current.status == RegistrationStatus.REJECTED:
            raise NotPending
        if (
            current.status == RegistrationStatus.APPROVED
            and current.deployments.exclude(_board_scope(board)).exists()
        ):
            raise DeployedElsewhere
        request = asked(current)
        if not granted <= set(request.services):
            raise NotAsked
        if privacy_level not in privacy_levels_up_to(request.privacy_level):
            raise NotAsked
        before = _review_values(current)
        current.status = RegistrationStatus.APPROVED
        current.is_active = True
        current.privacy_level = privacy_level
        current.allowed_services = [s for s in Service.values if s in granted]
        current.deep_linking_url = (
            request.deep_linking_url if Service.DEEP_LINKING in granted else ""
        )
        current.rejection_reason = ""
        current.save(
            update_fields=[
                "status",
                "is_active",
                "privacy_level",
                "allowed_services",
                "deep_linking_url",
                "rejection_reason",
            ]
        )
        trail.record(
            actor=user,
            action="registration.approve",
            target=current,
            org=board,
            before=before,
            after=_review_values(current),
        )
    return current


def reject_registration(
    *, acting_user: AnyUser, registration: Registration, board: Org, reason: str
) -> Registration:
    """Reject a pending registration with a reason its vendor will read (inactive).

    Raises ``NotAdministered``, ``ReasonRequired`` (empty or over ``MAX_REASON``) or
    ``NotPending``."""
    user = _board_admin(acting_user, board)
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON:
        raise ReasonRequired
    with serialized_writes(), transaction.atomic():
        current = Registration.objects.get(pk=registration.pk)
        if current.status != RegistrationStatus.PENDING:
            raise NotPending
        before = _review_values(current)
        current.status = RegistrationStatus.REJECTED
        current.is_active = False
        current.rejection_reason = reason
        current.save(update_fields=["status", "is_active", "rejection_reason"])
        trail.record(
            actor=user,
            action="registration.reject",
            target=current,
            org=board,
            before=before,
            after=_review_values(current),
        )
    return current


def _deployment_values(deployment: Deployment) -> dict[str, Any]:
    values: dict[str, Any] = {
        "deployment_id": deployment.deployment_id,
        "org": deployment.org.name,
        "is_active": deployment.is_active,
    }
    if deployment.privacy_level:  # the overlay, when the deployment has one
        values["privacy_level"] = deployment.privacy_level
    if deployment.granted_services is not None:
        values["granted_services"] = list(deployment.granted_services)
    return values


def _overlay(
    registration: Registration, privacy_level: str | None, services: Iterable[str] | None
) -> tuple[str, list[str] | None]:
    """The deployment's privacy level ("" inherits) and granted services (None inherits),
    each at most what the registration allows; ``InvalidChoice`` or ``NotGranted``."""
    granted = None if services is None else set(services)
    if (privacy_level is not None and privacy_level not in PrivacyLevel.values) or (
        granted is not None and not granted <= set(Service.values)
    ):
        raise InvalidChoice
    if privacy_level is not None and privacy_level not in privacy_levels_up_to(
        registration.privacy_level
    ):
        raise NotGranted
    if granted is not None and not granted <= registration_services(registration):
        raise NotGranted
    return (
        privacy_level or "",
        None if granted is None else [s for s in Service.values if s in granted],
    )


def deploy(
    *,
    acting_user: AnyUser,
    registration: Registration,
    board: Org,
    schools: Sequence[Org] | None = None,
    privacy_level: str | None = None,
    granted_services: Iterable[str] | None = None,
) -> list[Deployment]:
    """Deploy an approved registration to the whole board (``schools`` None) or to each of the
    chosen schools of the board; return the deployments (an existing one is kept, an inactive
    one made active again). Deployment ids come from ``default_deployment_id``.

    ``privacy_level`` and ``granted_services`` are this board's overlay of the registration's
    grant (None inherits it: ``Deployment.effective_privacy_level``,
    ``tools_registry.models.effective_services``); an existing deployment takes the overlay
    given.

    Raises ``NotAdministered`` (not the acting user's board, or a school not of the board),
    ``InvalidChoice`` (an empty choice of schools, an unknown level or service),
    ``NotApproved``, ``NotGranted`` (more than the registration allows), ``NoDeploymentId``
    or ``DeploymentIdTaken``."""
    user = _board_admin(acting_user, board)
    if schools is not None:
        if not schools:
            raise InvalidChoice(_("配備する学校を選んでください。"))
        if any(s.type != OrgType.SCHOOL or s.parent_id != board.pk for s in schools):
            raise NotAdministered
    targets = [board] if schools is None else list({s.pk: s for s in schools}.values())
    result: list[Deployment] = []
    with serialized_writes(), transaction.atomic():
        current = Registration.objects.get(pk=registration.pk)
        if current.status != RegistrationStatus.APPROVED or not current.is_active:
            raise NotApproved
        level, services = _overlay(current, privacy_level, granted_services)
        for org in targets:
            deployment_id = default_deployment_id(org)
            if not deployment_id:
                raise NoDeploymentId
            existing = Deployment.objects.filter(
                registration=current, deployment_id=deployment_id
            ).first()
            if existing is not None and existing.org_id != org.pk:
                raise DeploymentIdTaken
            overlay_given = privacy_level is not None or granted_services is not None
            if (
                existing is not None
                and existing.is_active
                and (
                    not overlay_given
                    or (existing.privacy_level, existing.granted_services) == (level, services)
                )
            ):
                result.append(existing)
                continue
            before = _deployment_values(existing) if existing is not None else None
            if existing is None:
                existing = Deployment.objects.create(
                    registration=current,
                    deployment_id=deployment_id,
                    org=org,
                    privacy_level=level,
                    granted_services=services,
                )
            else:
                existing.is_active = True
                if overlay_given:
                    existing.privacy_level, existing.granted_services = level, services
                existing.save(update_fields=["is_active", "privacy_level", "granted_services"])
            trail.record(
                actor=user,
                action="deployment.deploy",
                target=existing,
                org=org,
                before=before,
                after=_deployment_values(existing),
            )
            result.append(existing)
    return result


def _placement_values(placement: Placement) -> dict[str, Any]:
    return {
        "tool": placement.deployment.registration.tool.name,
        "deployment_id": placement.deployment.deployment_id,
        "school": placement.school.name,
        "school_class": placement.school_class.title if placement.school_class else None,
        "audience": placement.audience,
        "title": placement.title,
    }


def place(
    *,
    acting_user: AnyUser,
    deployment: Deployment,
    school: Org,
    school_class: SchoolClass | None = None,
    audience: str = Audience.ALL,
) -> Placement:
    """Place a deployed tool for the whole school or one of its classes, for everyone, the
    students or the staff.

    Raises ``NotAdministered`` (not the acting user's school, a class of another school, or a
    deployment not covering the school or not active), ``InvalidChoice`` (audience) or
    ``AlreadyPlaced``."""
    user = _school_admin(acting_user, school)
    if audience not in AUDIENCES:
        raise InvalidChoice
    if school_class is not None and school_class.school_id != school.pk:
        raise NotAdministered
    with serialized_writes(), transaction.atomic():
        current = (
            Deployment.objects.select_related("registration__tool")
            .filter(pk=deployment.pk, is_active=True, registration__is_active=True)
            .first()
        )
        if current is None or not deployment_covers(current, school):
            raise NotAdministered
        if Placement.objects.filter(
            deployment=current, school=school, school_class=school_class
        ).exists():
            raise AlreadyPlaced
        placement = Placement.objects.create(
            deployment=current,
            school=school,
            school_class=school_class,
            title=current.registration.tool.name,
            audience=audience,
        )
        trail.record(
            actor=user,
            action="placement.place",
            target=placement,
            org=school,
            before=None,
            after=_placement_values(placement),
        )
    return placement


def unplace(*, acting_user: AnyUser, placement: Placement) -> None:
    """Remove a placement of the acting user's school (its launches end; scores stay).

    Raises ``NotAdministered``."""
    school = Org.objects.filter(pk=placement.school_id).first()
    if school is None:
        raise NotAdministered
    user = _school_admin(acting_user, school)
    with serialized_writes(), transaction.atomic():
        current = (
            Placement.objects.select_related(
                "deployment__registration__tool", "school", "school_class"
            )
            .filter(pk=placement.pk, school=school)
            .first()
        )
        if current is None:
            raise NotAdministered
        before = _placement_values(current)
        trail.record(
            actor=user,
            action="placement.remove",
            target=current,
            org=school,
            before=before,
            after=None,
        )
        current.delete()
