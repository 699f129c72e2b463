"""A board approves, rejects and deploys tools; a school places them: the administrators' actions.

**Each board decides for itself.** A vendor registers a tool once for the platform; every
board administrator sees it and reviews it for the board and its schools
(``BoardApproval``: approve with a privacy level, the AGS/NRPS scopes and Deep Linking
granted, or reject with a reason the vendor reads). One board's decision never changes what
another board's schools send. A tool registered again asking for more (``services.
save_dynamic_registration``) goes back to review in the boards that approved it, launching
with what they granted until they decide. Each board then deploys a tool it approved to itself
(all its schools) or to chosen schools of its own, optionally narrowing its grant for that
deployment; a school's administrators place a deployment covering their school for the school
or for one of its classes.

**The overlay.** What a tool asked for is ``grants.asked`` (its Dynamic Registration's scopes,
claims and messages, or its stored services and privacy level); a board grants a part of it
and nothing else. What a deployment's launches, the AGS/NRPS endpoints and the token endpoint
then carry is ``grants.deployment_grant`` (the one owner of "approved" and "granted").

Every action checks access through ``roster.administration`` (``NotAdministered``, the same for
missing and forbidden), runs atomically under ``serialized_writes()`` and records each change in
the audit trail with its values before and after. Refusals raise an ``ApprovalError`` and
write nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from http import HTTPStatus
from typing import Any

from django.db import transaction
from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from audit import trail
from dbtools.writelock import serialized_writes
from roster import administration
from roster.administration import AnyUser, NotAdministered
from roster.models import Org, OrgType, SchoolClass, User

from . import grants
from .errors import RegistryError
from .grants import Asked, asked, privacy_levels_up_to
from .models import (
    ApprovalStatus,
    BoardApproval,
    Deployment,
    Placement,
    PrivacyLevel,
    Registration,
    RegistrationStatus,
    Service,
)
from .services import default_deployment_id
from .visibility import Audience, deployment_covers

MAX_REASON = 2000  # characters of a rejection reason

AUDIENCES = (Audience.ALL, Audience.STUDENTS, Audience.STAFF)
__all__ = ["Asked", "asked", "privacy_levels_up_to"]  # re-exported: the pages read them here


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


def _with_decisions(board: Org, registrations: Iterable[Registration]) -> list[Registration]:
    """The registrations, each with ``board_decision`` (the board's ``grants.Decision``)."""
    registrations = list(registrations)
    rows = {
        row.registration_id: row
        for row in BoardApproval.objects.filter(
            board=board, registration__in=[r.pk for r in registrations]
        )
    }
    for registration in registrations:
        decision = grants.decision_of(registration, rows.get(registration.pk))
        registration.board_decision = decision  # type: ignore[attr-defined]
    return registrations


def pending_registrations(*, acting_user: AnyUser, board: Org) -> list[Registration]:
    """The registrations waiting for this board's review (new ones, and approved ones that
    asked for more: ``review``), oldest first; each with its ``board_decision``. Every
    board sees every registration that has no decision of its own yet."""
    _board_admin(acting_user, board)
    query = (
        Registration.objects.filter(
            grants.decision_in(board, [ApprovalStatus.PENDING, ApprovalStatus.REVIEW])
        )
        .select_related("tool__vendor")
        .order_by("created_at", "pk")
    )
    return _with_decisions(board, query)


def decided_registrations(*, acting_user: AnyUser, board: Org, status: str) -> list[Registration]:
    """The registrations this board approved (its grant in force, a re-review included) or
    rejected (``status``), by tool name, each with its ``board_decision`` and its
    ``board_deployments`` (to the board and its schools)."""
    _board_admin(acting_user, board)
    if status == ApprovalStatus.APPROVED:
        where = grants.approved_for_board(board)
    else:
        where = grants.decision_in(board, [ApprovalStatus.REJECTED])
    deployments = (
        Deployment.objects.filter(_board_scope(board))
        .select_related("org")
        .order_by("org__type", "org__name", "pk")
    )
    query = (
        Registration.objects.filter(where)
        .select_related("tool__vendor")
        .prefetch_related(Prefetch("deployments", deployments, to_attr="board_deployments"))
        .order_by("tool__name", "pk")
    )
    return _with_decisions(board, query)


def decision_for_board(
    *, acting_user: AnyUser, board: Org, registration: Registration
) -> grants.Decision:
    """The board's decision on the registration (its own, or the platform's)."""
    _board_admin(acting_user, board)
    return grants.board_decision(registration, board)


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
    or to its board) and whose board approved the tool, by tool name: what its
    administrators may place."""
    _school_admin(acting_user, school)
    orgs = [school.pk] + ([school.parent_id] if school.parent_id else [])
    deployments = list(
        Deployment.objects.filter(org__in=orgs, is_active=True, registration__is_active=True)
        .select_related("registration__tool", "org")
        .order_by("registration__tool__name", "pk")
    )
    grants.preload_grants(deployments)
    return [d for d in deployments if grants.deployment_grant(d).approved]


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


def _approval_values(registration: Registration, decision: grants.Decision) -> dict[str, Any]:
    return {
        "status": decision.status,
        "privacy_level": decision.privacy_level,
        "granted_scopes": grants.in_scope_order(decision.scopes),
        "deep_linking": decision.deep_linking,
        "reason": decision.reason,
        "registration_active": registration.is_active,
    }


def _locked_decision(
    registration: Registration, board: Org
) -> tuple[Registration, BoardApproval | None, grants.Decision]:
    current = Registration.objects.get(pk=registration.pk)
    row = BoardApproval.objects.filter(registration=current, board=board).first()
    return current, row, grants.decision_of(current, row)


def _save_decision(
    current: Registration,
    row: BoardApproval | None,
    board: Org,
    user: User,
    **fields: Any,
) -> BoardApproval:
    if row is None:
        row = BoardApproval(registration=current, board=board)
    for name, value in fields.items():
        setattr(row, name, value)
    row.decided_by = user
    row.decided_at = timezone.now()
    row.save()
    return row


def approve_registration(
    *,
    acting_user: AnyUser,
    registration: Registration,
    board: Org,
    privacy_level: str,
    scopes: Iterable[str],
    deep_linking: bool = False,
) -> BoardApproval:
    """Approve a registration for this board (or change the board's grant, or end a
    re-review): the privacy level, the AGS/NRPS scopes and Deep Linking granted — each within
    what the tool asked for. A dynamically registered tool becomes active (it launches only
    where a board approved it).

    Raises ``NotAdministered``, ``InvalidChoice`` (an unknown level or scope), ``NotAsked``
    (wider than asked) or ``NotPending`` (the board rejected it)."""
    user = _board_admin(acting_user, board)
    granted = set(scopes)
    if privacy_level not in PrivacyLevel.values or not granted <= set(grants.GRANTABLE_SCOPES):
        raise InvalidChoice
    with serialized_writes(), transaction.atomic():
        current, row, decision = _locked_decision(registration, board)
        if decision.status == ApprovalStatus.REJECTED:
            raise NotPending
        request = asked(current)
        if not granted <= set(request.grantable_scopes):
            raise NotAsked
        if deep_linking and Service.DEEP_LINKING not in request.services:
            raise NotAsked
        if privacy_level not in privacy_levels_up_to(request.privacy_level):
            raise NotAsked
        before = _approval_values(current, decision) if decision.own else None
        row = _save_decision(
            current,
            row,
            board,
            user,
            status=ApprovalStatus.APPROVED,
            privacy_level=privacy_level,
            granted_scopes=grants.in_scope_order(granted),
            deep_linking=bool(deep_linking),
            reason="",
        )
        if not current.is_active and current.status == RegistrationStatus.PENDING:
            current.is_active = True
            current.save(update_fields=["is_active"])
        trail.record(
            actor=user,
            action="registration.approve",
            target=current,
            org=board,
            before=before,
            after=_approval_values(current, grants.decision_of(current, row)),
        )
    return row


def reject_registration(
    *, acting_user: AnyUser, registration: Registration, board: Org, reason: str
) -> BoardApproval:
    """Reject a registration waiting for this board's review (new, or approved and asking for
    more) with a reason its vendor will read: it launches nowhere in the board.

    Raises ``NotAdministered``, ``ReasonRequired`` (empty or over ``MAX_REASON``) or
    ``NotPending``."""
    user = _board_admin(acting_user, board)
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON:
        raise ReasonRequired
    with serialized_writes(), transaction.atomic():
        current, row, decision = _locked_decision(registration, board)
        if decision.status not in (ApprovalStatus.PENDING, ApprovalStatus.REVIEW):
            raise NotPending
        before = _approval_values(current, decision) if decision.own else None
        row = _save_decision(
            current,
            row,
            board,
            user,
            status=ApprovalStatus.REJECTED,
            granted_scopes=[],
            deep_linking=False,
            privacy_level=PrivacyLevel.ID_ONLY,
            reason=reason,
        )
        trail.record(
            actor=user,
            action="registration.reject",
            target=current,
            org=board,
            before=before,
            after=_approval_values(current, grants.decision_of(current, row)),
        )
    return row


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
    decision: grants.Decision, privacy_level: str | None, services: Iterable[str] | None
) -> tuple[str, list[str] | None]:
    """The deployment's privacy level ("" inherits) and granted services (None inherits),
    each at most what the board's decision allows; ``InvalidChoice`` or ``NotGranted``."""
    granted = None if services is None else set(services)
    if (privacy_level is not None and privacy_level not in PrivacyLevel.values) or (
        granted is not None and not granted <= set(Service.values)
    ):
        raise InvalidChoice
    if privacy_level is not None and privacy_level not in privacy_levels_up_to(
        decision.privacy_level
    ):
        raise NotGranted
    if granted is not None and not granted <= decision.services:
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
    """Deploy a registration the board approved to the whole board (``schools`` None) or to
    each of the chosen schools of the board; return the deployments (an existing one is
    kept, an inactive one made active again). Deployment ids come from
    ``default_deployment_id``.

    ``privacy_level`` and ``granted_services`` are this deployment's overlay of the board's
    grant (None inherits it: ``grants.deployment_grant``); an existing deployment takes the
    overlay given.

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
        current, _row, decision = _locked_decision(registration, board)
        if not decision.in_force or not current.is_active:
            raise NotApproved
        level, services = _overlay(decision, privacy_level, granted_services)
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
