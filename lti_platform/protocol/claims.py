"""Typed launch data and the id_token claims of an LtiResourceLinkRequest (LTI Core 1.3
§5.3–5.4) and of an LtiDeepLinkingRequest (Deep Linking 2.0 §4.4)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import constants as c
from .deep_linking import Settings as DeepLinkingSettings
from .substitution import substitute


@dataclass(frozen=True)
class PlatformInfo:
    issuer: str
    guid: str  # UUIDv4
    name: str
    contact_email: str
    url: str
    version: str
    product_family_code: str = "manabi-hub"


@dataclass(frozen=True)
class Person:
    sub: str  # e-portal UUID
    username: str
    sourced_id: str
    given_name: str = ""
    family_name: str = ""
    kana_given_name: str = ""
    kana_family_name: str = ""
    email: str = ""

    @property
    def full_name(self) -> str:
        return "\u3000".join(n for n in (self.family_name, self.given_name) if n)


@dataclass(frozen=True)
class Context:
    id: str
    label: str
    title: str
    sourced_id: str


@dataclass(frozen=True)
class ResourceLink:
    id: str
    title: str
    description: str = ""


@dataclass(frozen=True)
class Launch:
    """Everything an LtiResourceLinkRequest says, decided by the platform before signing."""

    platform: PlatformInfo
    client_id: str
    deployment_id: str
    target_link_uri: str
    person: Person
    roles: Sequence[str]
    context: Context
    resource_link: ResourceLink
    nonce: str
    locale: str
    return_url: str
    share_name: bool = False
    share_email: bool = False
    grade: str = ""
    custom: Mapping[str, str] = field(default_factory=dict)
    extra_variables: Mapping[str, str | None] = field(default_factory=dict)
    ags: AgsEndpoint | None = None
    nrps_url: str | None = None
    document_target: str = "window"
    # Set for an LtiDeepLinkingRequest: no resource_link claim, these settings instead.
    deep_linking: DeepLinkingSettings | None = None
    # Set for an LtiSubmissionReviewRequest: the learner whose submission is reviewed.
    for_user: ForUser | None = None


@dataclass(frozen=True)
class ForUser:
    """The ``for_user`` claim (LTI Submission Review 1.0 §3.2): names as privacy allows."""

    person: Person
    roles: Sequence[str]


@dataclass(frozen=True)
class AgsEndpoint:
    scopes: Sequence[str]
    lineitems: str
    lineitem: str | None = None


def membership_role(roles: Sequence[str]) -> str:
    """Return the context roles, comma separated, for ``$Membership.role``."""
    return ",".join(r for r in roles if "/membership#" in r)


def custom_variables(
    *,
    person: Person,
    context: Context,
    resource_link: ResourceLink,
    roles: Sequence[str],
    platform_guid: str,
    share_name: bool,
    share_email: bool,
    grade: str,
) -> dict[str, str | None]:
    """The substitution variables (LTI Core Appendix C) of one person in one resource link."""
    return {
        "$User.id": person.sub,
        "$User.username": person.username,
        "$Person.sourcedId": person.sourced_id,
        "$Person.name.full": person.full_name if share_name else None,
        "$Person.name.given": person.given_name if share_name else None,
        "$Person.name.family": person.family_name if share_name else None,
        "$Person.email.primary": person.email if share_email and person.email else None,
        "$Context.id": context.id,
        "$Context.title": context.title,
        "$Context.label": context.label,
        "$CourseSection.sourcedId": context.sourced_id,
        "$ResourceLink.id": resource_link.id,
        "$ResourceLink.title": resource_link.title,
        "$ResourceLink.description": resource_link.description,
        "$Membership.role": membership_role(roles),
        "$ToolPlatformInstance.guid": platform_guid,
        "$Context.grade": grade or None,
        "$LineItem.resultValue.max": None,
    }


# The variables ``custom_variables`` gives a value (``$LineItem.resultValue.max`` never has
# one yet): the ``variables`` of the platform's OpenID configuration (Dynamic Registration).
SUPPORTED_VARIABLES = (
    "$User.id",
    "$User.username",
    "$Person.sourcedId",
    "$Person.name.full",
    "$Person.name.given",
    "$Person.name.family",
    "$Person.email.primary",
    "$Context.id",
    "$Context.title",
    "$Context.label",
    "$CourseSection.sourcedId",
    "$ResourceLink.id",
    "$ResourceLink.title",
    "$ResourceLink.description",
    "$Membership.role",
    "$ToolPlatformInstance.guid",
    "$Context.grade",
)


# Custom keys whose values the platform computes: a tool's or placement's custom parameters
# never replace them (Japanese tools refuse a launch whose ``grade`` is not a grade code).
RESERVED_CUSTOM = frozenset({"grade"})


def custom_claim(
    custom: Mapping[str, str], variables: Mapping[str, str | None], grade: str
) -> dict[str, str]:
    """The custom claim: ``grade`` (a Japanese grade code, computed by the platform) first,
    then the substituted parameters; parameters named like a reserved key are dropped."""
    result: dict[str, str] = {"grade": grade} if grade else {}
    for key, value in substitute(custom, variables).items():
        if key not in RESERVED_CUSTOM:
            result[key] = value
    return result


def variables_for(launch: Launch) -> dict[str, str | None]:
    variables = custom_variables(
        person=launch.person,
        context=launch.context,
        resource_link=launch.resource_link,
        roles=launch.roles,
        platform_guid=launch.platform.guid,
        share_name=launch.share_name,
        share_email=launch.share_email,
        grade=launch.grade,
    )
    variables.update(launch.extra_variables)
    return variables


def deep_linking_claims(launch: Launch, *, now: int, lifetime: int) -> dict[str, Any]:
    """Return the id_token payload of an LtiDeepLinkingRequest (``launch.deep_linking`` set):
    the launch's claims without ``resource_link``, with ``deep_linking_settings``."""
    if launch.deep_linking is None:
        raise ValueError("not a deep-linking launch")
    claims = resource_link_claims(launch, now=now, lifetime=lifetime)
    del claims[c.CLAIM_RESOURCE_LINK]
    claims[c.CLAIM_MESSAGE_TYPE] = c.MessageType.DEEP_LINKING.value
    claims[c.CLAIM_DEEP_LINKING_SETTINGS] = launch.deep_linking.claim()
    return claims


def submission_review_claims(launch: Launch, *, now: int, lifetime: int) -> dict[str, Any]:
    """Return the id_token payload of an LtiSubmissionReviewRequest (``launch.for_user`` set):
    the reviewer's launch, with ``for_user`` naming the learner."""
    if launch.for_user is None:
        raise ValueError("not a submission-review launch")
    claims = resource_link_claims(launch, now=now, lifetime=lifetime)
    claims[c.CLAIM_MESSAGE_TYPE] = c.MessageType.SUBMISSION_REVIEW.value
    if not launch.resource_link.id:  # a line item bound to no resource link
        del claims[c.CLAIM_RESOURCE_LINK]
    learner = launch.for_user.person
    for_user: dict[str, Any] = {"user_id": learner.sub, "person_sourcedid": learner.sourced_id}
    if launch.share_name:
        for_user.update(
            {
                "given_name": learner.given_name,
                "family_name": learner.family_name,
                "name": learner.full_name,
            }
        )
    if launch.share_email and learner.email:
        for_user["email"] = learner.email
    for_user["roles"] = list(launch.for_user.roles)
    claims[c.CLAIM_FOR_USER] = for_user
    return claims


def resource_link_claims(launch: Launch, *, now: int, lifetime: int) -> dict[str, Any]:
    """Return the id_token payload of an LtiResourceLinkRequest."""
    p = launch.person
    custom = custom_claim(launch.custom, variables_for(launch), launch.grade)

    claims: dict[str, Any] = {
        "iss": launch.platform.issuer,
        "aud": launch.client_id,
        "sub": p.sub,
        "iat": now,
        "exp": now + lifetime,
        "nonce": launch.nonce,
        "locale": launch.locale,
        c.CLAIM_MESSAGE_TYPE: c.MessageType.RESOURCE_LINK.value,
        c.CLAIM_VERSION: c.LTI_VERSION,
        c.CLAIM_DEPLOYMENT_ID: launch.deployment_id,
        c.CLAIM_TARGET_LINK_URI: launch.target_link_uri,
        c.CLAIM_RESOURCE_LINK: {
            "id": launch.resource_link.id,
            "title": launch.resource_link.title,
            "description": launch.resource_link.description,
        },
        c.CLAIM_ROLES: list(launch.roles),
        c.CLAIM_CONTEXT: {
            "id": launch.context.id,
            "label": launch.context.label,
            "title": launch.context.title,
            "type": [c.CONTEXT_TYPE_COURSE_SECTION],
        },
        c.CLAIM_TOOL_PLATFORM: {
            "guid": launch.platform.guid,
            "name": launch.platform.name,
            "contact_email": launch.platform.contact_email,
            "url": launch.platform.url,
            "product_family_code": launch.platform.product_family_code,
            "version": launch.platform.version,
        },
        c.CLAIM_LAUNCH_PRESENTATION: {
            "document_target": launch.document_target,
            "return_url": launch.return_url,
            "locale": launch.locale,
        },
        c.CLAIM_LIS: {
            "person_sourcedid": p.sourced_id,
            "course_section_sourcedid": launch.context.sourced_id,
        },
        c.CLAIM_CUSTOM: custom,
    }
    if launch.ags is not None:
        endpoint: dict[str, Any] = {
            "scope": list(launch.ags.scopes),
            "lineitems": launch.ags.lineitems,
        }
        if launch.ags.lineitem:
            endpoint["lineitem"] = launch.ags.lineitem
        claims[c.CLAIM_AGS_ENDPOINT] = endpoint
    if launch.nrps_url is not None:
        claims[c.CLAIM_NRPS] = {
            "context_memberships_url": launch.nrps_url,
            "service_versions": ["2.0"],
        }
    if launch.share_name:
        claims.update(
            {"name": p.full_name, "given_name": p.given_name, "family_name": p.family_name}
        )
    if launch.share_email and p.email:
        claims["email"] = p.email
    return claims
