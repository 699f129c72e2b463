"""What a tool may receive where: each board's decision on a registration and the grant of a
deployment — the one owner of "approved" and of "granted".

**A board decides for itself.** A registration is reviewed by each board of education for the
board and its schools (``BoardApproval``: pending, approved, re-review, rejected with a
reason; the privacy level, the scopes and Deep Linking granted). A board without a decision of
its own follows the platform's: a registration the platform approved (``register_tool``, the
admin: ``Registration.status`` approved) is approved for every such board with the
registration's privacy level and services; a dynamically registered one (pending) waits for
each board.

**Grants are per scope.** A board grants individual AGS scopes (``lineitem``,
``lineitem.readonly``, ``result.readonly``, ``score``) and NRPS's, never more than the tool
asked for (``asked``). A deployment's grant (``deployment_grant``) is its board's decision in
force (approved, or approved and waiting for a re-review of a wider request), within what the
tool asks for now and within the deployment's own overlay (``Deployment.privacy_level``,
``granted_services``: null inherits). Under the platform's decision a deployment's privacy
level replaces the registration's, as ``register_tool`` has always let an operator write it.

Everything reads it here: visibility (a placement launches only where its deployment's board
approved the tool), the launch (the service claims, the AGS claim's scopes, deep linking, the
personal claims), the AGS/NRPS endpoints (a request needs one of its scopes granted in the
context's deployment, else 403 ``insufficient_scope``), the token endpoint (the scopes the
boards whose deployments the tool has granted: ``active_grants``; a token is per client),
the board's and the vendor's pages and the boards' diagnostics.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q

from lti_platform.protocol import constants as c
from roster.models import Org, OrgType

from .models import (
    ApprovalStatus,
    BoardApproval,
    Deployment,
    PrivacyLevel,
    Registration,
    RegistrationStatus,
    Service,
)

PRIVACY_ORDER = (PrivacyLevel.ID_ONLY, PrivacyLevel.NAME, PrivacyLevel.NAME_EMAIL)
NAME_CLAIMS = frozenset({"name", "given_name", "family_name", "middle_name", "nickname"})
EMAIL_CLAIMS = frozenset({"email"})

# The scopes a board may grant, by the service they belong to, in the order pages show them.
SCOPES_BY_SERVICE: dict[str, tuple[str, ...]] = {
    Service.AGS: c.AGS_SCOPES,
    Service.NRPS: (c.SCOPE_NRPS,),
}
GRANTABLE_SCOPES: tuple[str, ...] = (*c.AGS_SCOPES, c.SCOPE_NRPS)
IN_FORCE = frozenset({ApprovalStatus.APPROVED, ApprovalStatus.REVIEW})


def scopes_of_services(services: Iterable[str]) -> frozenset[str]:
    """Every scope of the given services (AGS: its four)."""
    return frozenset(s for service in services for s in SCOPES_BY_SERVICE.get(service, ()))


def services_of_scopes(scopes: Iterable[str], *, deep_linking: bool) -> frozenset[str]:
    """The services a set of scopes (and Deep Linking) makes available: AGS with any of its
    scopes, NRPS with its scope."""
    scopes = frozenset(scopes)
    result = {s for s, offered in SCOPES_BY_SERVICE.items() if scopes & set(offered)}
    if deep_linking:
        result.add(Service.DEEP_LINKING)
    return frozenset(str(s) for s in result)


def in_scope_order(scopes: Iterable[str]) -> list[str]:
    chosen = set(scopes)
    return [s for s in GRANTABLE_SCOPES if s in chosen]


def narrower_privacy(*levels: str) -> str:
    """The narrowest of the given privacy levels ("" counts as no limit)."""
    given = [PRIVACY_ORDER.index(PrivacyLevel(v)) for v in levels if v]
    return str(PRIVACY_ORDER[min(given)]) if given else str(PrivacyLevel.ID_ONLY)


def privacy_levels_up_to(level: str) -> list[str]:
    """The privacy levels a board may grant when ``level`` is asked (that one and narrower)."""
    return list(PRIVACY_ORDER[: PRIVACY_ORDER.index(PrivacyLevel(level)) + 1])


# --- what a tool asks for ---------------------------------------------------------------------


@dataclass(frozen=True)
class Asked:
    """What a registration asks for: services (in ``Service`` order), the grantable scopes, the
    widest privacy level its claims need, and, for the review page, the claims, the scopes
    and message types as asked."""

    services: tuple[str, ...]
    privacy_level: str
    claims: tuple[str, ...]
    scopes: tuple[str, ...]
    messages: tuple[str, ...]
    deep_linking_url: str
    from_metadata: bool = False  # read from a Dynamic Registration's client metadata

    @property
    def grantable_scopes(self) -> tuple[str, ...]:
        """The scopes a board may grant: those asked (a registration made without client
        metadata asks for every scope of its services)."""
        if self.scopes:
            return tuple(in_scope_order(set(self.scopes) & set(GRANTABLE_SCOPES)))
        return tuple(in_scope_order(scopes_of_services(self.services)))

    @property
    def message_types(self) -> frozenset[str]:
        """The message types asked for, a resource link launch always (a registration made
        without client metadata: those its services imply)."""
        if self.from_metadata:
            return frozenset({*self.messages, c.MessageType.RESOURCE_LINK})
        implied = {c.MessageType.RESOURCE_LINK}
        if Service.DEEP_LINKING in self.services:
            implied.add(c.MessageType.DEEP_LINKING)
        if Service.AGS in self.services:
            implied.add(c.MessageType.SUBMISSION_REVIEW)
        return frozenset(str(m) for m in implied)

    def wider_than(self, before: Asked) -> bool:
        """Asks for something ``before`` did not: a scope, a service, more personal data or
        another message type."""
        return bool(
            set(self.grantable_scopes) - set(before.grantable_scopes)
            or set(self.services) - set(before.services)
            or PRIVACY_ORDER.index(PrivacyLevel(self.privacy_level))
            > PRIVACY_ORDER.index(PrivacyLevel(before.privacy_level))
            or self.message_types - before.message_types
        )


def asked(registration: Registration) -> Asked:
    """What the registration asks for: its Dynamic Registration's client metadata (scopes,
    claims, messages) or, for one made otherwise, its stored services and privacy level."""
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
    services = set(services_of_scopes(scopes, deep_linking=deep_linking is not None))
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
        from_metadata=True,
    )


# --- a board's decision -------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """A board's decision on a registration (``own``: its ``BoardApproval``; else the
    platform's, see the module docstring)."""

    status: str
    privacy_level: str
    scopes: frozenset[str]
    deep_linking: bool
    reason: str
    own: bool
    row: BoardApproval | None = None

    @property
    def in_force(self) -> bool:
        """Launches use the grant: approved, or approved and waiting for a re-review."""
        return self.status in IN_FORCE

    @property
    def services(self) -> frozenset[str]:
        return services_of_scopes(self.scopes, deep_linking=self.deep_linking)


def board_id_of(org: Org) -> int | None:
    """The board an org belongs to for approvals: itself (a board) or a school's parent."""
    if org.type == OrgType.DISTRICT:
        return org.pk
    return org.parent_id


def decision_of(registration: Registration, row: BoardApproval | None) -> Decision:
    """The decision ``row`` records, or, without one, the platform's."""
    if row is not None:
        return Decision(
            status=row.status,
            privacy_level=row.privacy_level,
            scopes=frozenset(row.granted_scopes),
            deep_linking=row.deep_linking,
            reason=row.reason,
            own=True,
            row=row,
        )
    if registration.status == RegistrationStatus.APPROVED:
        return Decision(
            status=ApprovalStatus.APPROVED,
            privacy_level=registration.privacy_level,
            scopes=scopes_of_services(registration.allowed_services),
            deep_linking=bool(registration.deep_linking_url),
            reason="",
            own=False,
        )
    if registration.status == RegistrationStatus.REJECTED:
        return Decision(
            status=ApprovalStatus.REJECTED,
            privacy_level=PrivacyLevel.ID_ONLY,
            scopes=frozenset(),
            deep_linking=False,
            reason=registration.rejection_reason,
            own=False,
        )
    return Decision(
        status=ApprovalStatus.PENDING,
        privacy_level=PrivacyLevel.ID_ONLY,
        scopes=frozenset(),
        deep_linking=False,
        reason="",
        own=False,
    )


# The platform's decision, as the board's when it has none of its own (``decision_of``).
_PLATFORM_STATUS = {
    RegistrationStatus.APPROVED: ApprovalStatus.APPROVED,
    RegistrationStatus.PENDING: ApprovalStatus.PENDING,
    RegistrationStatus.REJECTED: ApprovalStatus.REJECTED,
}


def decision_in(board: Org, statuses: Iterable[str]) -> Q:
    """A filter of registrations whose decision for ``board`` has one of ``statuses``: the
    SQL form of ``decision_of``, for lists."""
    statuses = set(statuses)
    own = BoardApproval.objects.filter(board=board)
    platform = [r for r, a in _PLATFORM_STATUS.items() if a in statuses]
    return Q(pk__in=own.filter(status__in=statuses).values("registration_id")) | (
        Q(status__in=platform) & ~Q(pk__in=own.values("registration_id"))
    )


def approved_by_board(board: Org) -> Q:
    """A filter of registrations ``board`` itself approved (its own decision, in force)."""
    own = BoardApproval.objects.filter(board=board, status__in=IN_FORCE)
    return Q(pk__in=own.values("registration_id"))


def approved_for_board(board: Org) -> Q:
    """A filter of registrations whose decision for ``board`` is in force."""
    return decision_in(board, IN_FORCE)


def board_decision(registration: Registration, board: Org) -> Decision:
    """``board``'s decision on ``registration`` (one query)."""
    row = BoardApproval.objects.filter(registration=registration, board=board).first()
    return decision_of(registration, row)


def board_decisions(registration: Registration, boards: Iterable[Org]) -> dict[int, Decision]:
    """The decisions of each of ``boards`` (by board pk), in one query."""
    boards = list(boards)
    rows = {
        row.board_id: row
        for row in BoardApproval.objects.filter(
            registration=registration, board__in=[b.pk for b in boards]
        )
    }
    return {b.pk: decision_of(registration, rows.get(b.pk)) for b in boards}


# --- a deployment's grant -------------------------------------------------------------------------


@dataclass(frozen=True)
class Grant:
    """What a deployment's launches and service calls may carry."""

    approved: bool
    privacy_level: str
    scopes: frozenset[str]
    deep_linking: bool

    @property
    def services(self) -> frozenset[str]:
        return services_of_scopes(self.scopes, deep_linking=self.deep_linking)

    @property
    def ags_scopes(self) -> list[str]:
        """The granted AGS scopes, in the specification's order (the launch's AGS claim)."""
        return [s for s in c.AGS_SCOPES if s in self.scopes]

    def allows_any(self, scopes: Iterable[str]) -> bool:
        return bool(self.scopes.intersection(scopes))


NOTHING = Grant(
    approved=False, privacy_level=PrivacyLevel.ID_ONLY, scopes=frozenset(), deep_linking=False
)


def grant_within(registration: Registration, deployment: Deployment, decision: Decision) -> Grant:
    """The grant of ``deployment`` under its board's ``decision``: nothing unless it is in
    force; then within what the tool asks for now and the deployment's overlay."""
    if not decision.in_force:
        return NOTHING
    request = asked(registration)
    scopes = decision.scopes & frozenset(request.grantable_scopes)
    deep_linking = (
        decision.deep_linking
        and Service.DEEP_LINKING in request.services
        and bool(registration.deep_linking_url)
    )
    if deployment.granted_services is not None:
        overlay = set(deployment.granted_services)
        scopes = scopes & scopes_of_services(overlay)
        deep_linking = deep_linking and Service.DEEP_LINKING in overlay
    if decision.own:
        level = narrower_privacy(
            decision.privacy_level, request.privacy_level, deployment.privacy_level
        )
    else:  # the platform's (an operator's) decision: a deployment's level replaces it
        level = deployment.privacy_level or decision.privacy_level
    return Grant(approved=True, privacy_level=level, scopes=scopes, deep_linking=deep_linking)


def compute_grant(
    deployment: Deployment, registration: Registration | None = None, school: Org | None = None
) -> Grant:
    """``deployment``'s grant, read from the database (``deployment_grant`` caches it).
    ``school``: a school the deployment covers, whose board is the deployment's (saves
    reading the deployment's org)."""
    if registration is None or registration.pk != deployment.registration_id:
        registration = deployment.registration
    if school is not None and deployment.org_id in (school.pk, school.parent_id):
        board_id = school.parent_id
    else:
        board_id = board_id_of(deployment.org)
    row = (
        BoardApproval.objects.filter(registration=registration, board_id=board_id).first()
        if board_id is not None
        else None
    )
    return grant_within(registration, deployment, decision_of(registration, row))


def deployment_grant(
    deployment: Deployment, registration: Registration | None = None, *, school: Org | None = None
) -> Grant:
    """``deployment``'s grant (the per-process configuration cache keeps it, cleared on every
    change to registrations, deployments, approvals and orgs). Pass ``registration`` when the
    caller has the deployment's own registration loaded, ``school`` a school it covers."""
    preloaded: Grant | None = getattr(deployment, "_preloaded_grant", None)
    if preloaded is not None:
        return preloaded
    from lti_platform.config_cache import config_cache  # the platform's cache, see there

    return config_cache.grant(deployment, registration, school)


def preload_grants(deployments: Iterable[Deployment]) -> None:
    """Compute the grants of many deployments (their org and registration loaded) in one query
    and keep each on its instance, for ``deployment_grant`` (the home screen's tiles)."""
    deployments = [d for d in deployments if not hasattr(d, "_preloaded_grant")]
    if not deployments:
        return
    rows: dict[tuple[int, int | None], BoardApproval] = {
        (row.registration_id, row.board_id): row
        for row in BoardApproval.objects.filter(
            registration_id__in={d.registration_id for d in deployments}
        )
    }
    for d in deployments:
        board_id = board_id_of(d.org)
        decision = decision_of(d.registration, rows.get((d.registration_id, board_id)))
        d._preloaded_grant = grant_within(d.registration, d, decision)  # type: ignore[attr-defined]


def active_grants(registration: Registration) -> list[Grant]:
    """The grants of ``registration``'s active deployments (the token endpoint: a token is per
    client, so it may carry the scopes any board granted; the service endpoints check the
    context's own deployment again). Two queries."""
    deployments = list(
        Deployment.objects.filter(registration=registration, is_active=True).select_related("org")
    )
    for d in deployments:
        d.registration = registration
    preload_grants(deployments)
    return [deployment_grant(d) for d in deployments]
