"""Deep Linking 2.0 responses: verify a tool's LtiDeepLinkingResponse and write its items as
the class's assignments (Deep Linking 2.0 §4.5).

The checks of the claims are ``protocol.deep_linking``'s; this module finds the tool's key by
``kid`` (``tools_registry.tool_keys``, as the token endpoint does), the single-use request
record named by ``data``, and writes everything in one transaction: the record marked used,
the nonce consumed, one assignment per item (with its AGS line item) and the events. Any
refusal raises ``DeepLinkingRefused`` and writes nothing.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

import jwt
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from assignments import services as assignments
from assignments.models import Assignment
from roster.models import SchoolClass, User
from tools_registry import tool_keys
from tools_registry.errors import ToolKeyError

from . import services
from .config_cache import config_cache
from .errors import DeepLinkingRefused
from .models import DeepLinkingRequest, LineItem
from .protocol import constants as c
from .protocol import deep_linking as dl
from .protocol.errors import ProtocolError

logger = logging.getLogger("manabi.deep_linking")
MAX_JWT = 256 * 1024


@dataclass(frozen=True)
class Received:
    """What a verified response wrote, and the tool's message for the teacher."""

    school_class: SchoolClass
    assignments: list[Assignment]
    msg: str
    errormsg: str


def _decode_unverified(token: str) -> tuple[dict[str, object], dict[str, object]]:
    if not token:
        raise DeepLinkingRefused("the form has no JWT field")
    if len(token) > MAX_JWT:
        raise DeepLinkingRefused("the JWT is too large")
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError as exc:
        raise DeepLinkingRefused("JWT is not a valid JSON Web Token") from exc
    try:  # before iss, kid or data is looked up, hashed or stored
        dl.check_encodable(header, claims)
    except ProtocolError as exc:
        raise DeepLinkingRefused(exc.description) from exc
    return header, claims


def _verified_claims(token: str, key: object) -> dict[str, object]:
    try:
        claims: dict[str, object] = jwt.decode(
            token,
            key,  # type: ignore[arg-type]
            algorithms=[dl.ALGORITHM],
            options={
                "verify_exp": False,  # checked with skew by protocol.deep_linking
                "verify_iat": False,
                "verify_nbf": False,
                "verify_aud": False,
                "verify_iss": False,
            },
        )
    except jwt.InvalidSignatureError as exc:
        raise DeepLinkingRefused("the JWT signature is not valid for the tool's key") from exc
    except jwt.InvalidTokenError as exc:
        raise DeepLinkingRefused("the JWT could not be verified (RS256 only)") from exc
    return claims


def _record(
    claims: dict[str, object], user: User, client_id: str, now: float
) -> DeepLinkingRequest:
    key = dl.read_data(claims.get(c.CLAIM_DL_DATA), secret=services.deep_linking_data_secret())
    record = (
        DeepLinkingRequest.objects.select_related(
            "school_class__school", "deployment__registration", "registration"
        )
        .filter(key=key)
        .first()
        if key
        else None
    )
    if record is None:
        raise DeepLinkingRefused("data is not a value the platform sent")
    if record.used_at is not None:
        raise DeepLinkingRefused("data has already been used (a response is accepted once)")
    if record.expires_at.timestamp() < now:
        raise DeepLinkingRefused("the deep-linking request has expired; start again")
    if record.registration.client_id != client_id:
        raise DeepLinkingRefused("data was issued for another tool")
    if record.user_id != user.pk:
        raise DeepLinkingRefused("data was issued to another user")
    if not assignments.staff_of(user, record.school_class):
        raise DeepLinkingRefused("you are not a teacher of this class")
    return record


def receive_response(*, acting_user: User | None, token: str) -> Received:
    """Verify an LtiDeepLinkingResponse and create one assignment per content item."""
    if acting_user is None or not acting_user.is_authenticated or not acting_user.is_active:
        raise DeepLinkingRefused("the teacher is not signed in to the platform")
    header, unverified = _decode_unverified(token)
    client_id = unverified.get("iss")
    registration = (
        config_cache.registration(client_id)
        if isinstance(client_id, str) and 0 < len(client_id) <= 64
        else None
    )
    if registration is None:
        raise DeepLinkingRefused("iss is not the client_id of an active tool")
    kid = header.get("kid")
    try:
        key = tool_keys.tool_public_key(registration, kid if isinstance(kid, str) else None)
    except ToolKeyError as exc:
        raise DeepLinkingRefused(f"the tool's key was not found: {exc}") from exc
    claims = _verified_claims(token, key)
    now = services.clock()
    record = _record(claims, acting_user, registration.client_id, now)
    expected = dl.Expected(
        client_id=registration.client_id,
        issuer=settings.LTI_ISSUER,
        deployment_id=record.deployment.deployment_id,
        data=str(claims.get(c.CLAIM_DL_DATA)),
        accept_multiple=record.accept_multiple,
        accept_presentation_document_targets=dl.accept_targets(
            platform_storage=registration.platform_storage
        ),
    )
    try:
        response = dl.verify_response(header, claims, expected, now=int(now))
    except ProtocolError as exc:
        raise DeepLinkingRefused(exc.description) from exc
    if response.log:
        logger.info("deep-linking log from %s: %s", registration.client_id, response.log)
    if response.errorlog:
        logger.warning(
            "deep-linking errorlog from %s: %s", registration.client_id, response.errorlog
        )
    created = _write(acting_user, record, response, now)
    return Received(record.school_class, created, response.msg, response.errormsg)


def _write(
    user: User, record: DeepLinkingRequest, response: dl.Response, now: float
) -> list[Assignment]:
    moment = datetime.datetime.fromtimestamp(now, tz=datetime.UTC)
    created: list[Assignment] = []
    with transaction.atomic():
        used = DeepLinkingRequest.objects.filter(pk=record.pk, used_at__isnull=True).update(
            used_at=moment
        )
        if not used:
            raise DeepLinkingRefused("data has already been used (a response is accepted once)")
        nonce_expires = datetime.datetime.fromtimestamp(
            max(response.expires_at, int(now)) + 120, tz=datetime.UTC
        )
        nonce_key = f"dlnonce:{record.registration.client_id}:{response.nonce}"
        if not services.consume_once(nonce_key[:128], expires_at=nonce_expires):
            raise DeepLinkingRefused("nonce has been used before (a replayed response)")
        for item in response.items:
            created.append(_create(user, record, item))
    return created


def _create(user: User, record: DeepLinkingRequest, item: dl.ContentItem) -> Assignment:
    assignment = assignments.create_assignment(
        acting_user=user,
        school_class=record.school_class,
        deployment=record.deployment,
        new=assignments.NewAssignment(
            item_type=item.type,
            title=(item.title or item.url or _("（題名なし）"))[: dl.MAX_TITLE],
            text=item.text,
            url=item.url,
            html=item.html,
            custom_parameters=item.custom,
            target=item.target,
            available_start=item.available.start,
            available_end=item.available.end,
            submission_start=item.submission.start,
            submission_end=item.submission.end,
            curriculum_codes=item.curriculum_codes,
        ),
        has_line_item=item.line_item is not None,
    )
    if item.line_item is not None:
        spec = item.line_item
        LineItem.objects.create(
            deployment=record.deployment,
            school_class=record.school_class,
            assignment=assignment,
            label=spec.label or assignment.title,
            score_maximum=spec.score_maximum,
            resource_id=spec.resource_id,
            tag=spec.tag,
            start_date_time=item.submission.start,
            end_date_time=item.submission.end,
            submission_review=spec.submission_review,
        )
    return assignment
