"""SAML 2.0 sign-in: the IdP's metadata, the security every SAML app gets, and the ACS gate.

allauth's saml provider (``allauth.socialaccount.providers.saml``, on python3-saml) runs the
protocol: the AuthnRequest (HTTP-Redirect), the ACS that stores the posted response and the
finish step that validates it again and completes the sign-in through the socialaccount
adapter, which matches the roster user (``sso.matching``). What the portal adds lives here:

- **configuration from the database**: a SAML ``IdentityProvider``'s ``SocialApp`` has
  ``provider="saml"``, ``client_id`` = ``provider_id`` = the slug in its URLs
  (``/accounts/saml/<slug>/…``), and ``settings`` from ``app_settings``: the IdP's entity id,
  sign-in URL and signing certificate under ``settings["idp"]`` — parsed from an uploaded
  metadata file (``parse_metadata``) or fetched from the IdP's metadata URL
  (``fetch_metadata``, through ``tools_registry.fetching``: no private addresses unless
  allowed; the URL is kept in ``settings["metadata_url"]`` and the metadata refetched by
  ``refresh_metadata``), the SP's entity id under ``settings["sp"]``, and ``FORCED`` under
  ``settings["advanced"]``.
- **the ACS gate** (``check_response``, called by ``sso.saml_views.acs`` before allauth's
  ACS): the response is validated with ``FORCED`` whatever the stored settings say — strict
  (audience = our entity id, Destination and Recipient = our ACS URL, NotBefore/NotOnOrAfter
  within python3-saml's 300 s drift, the issuer and status), the **assertion signed** by the
  IdP's certificate (an unsigned assertion, one signed only at the Response, or a signature
  that no longer matches is refused), an answer to a sign-in this browser started
  (InResponseTo names a state allauth stashed in this session; IdP-initiated sign-in is off),
  and the assertion's ``ID`` never seen before for this IdP (``sso.replay.consume``, kept
  until its NotOnOrAfter plus the drift). A signature that fails against metadata fetched
  from a URL more than a minute ago refetches it once (the IdP rolled its key). A refusal
  is ``SamlRefused`` with the ``FailureReason`` the administrators' log shows, and nothing
  else is written.
"""

from __future__ import annotations

import binascii
import datetime
import logging
import time
from collections.abc import Mapping
from typing import Any

import requests
from allauth.socialaccount.internal import statekit
from allauth.socialaccount.providers.saml.utils import build_saml_config, prepare_django_request
from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from lxml import etree
from onelogin.saml2.constants import OneLogin_Saml2_Constants
from onelogin.saml2.errors import OneLogin_Saml2_Error, OneLogin_Saml2_ValidationError
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser
from onelogin.saml2.response import OneLogin_Saml2_Response
from onelogin.saml2.settings import OneLogin_Saml2_Settings

from tools_registry import fetching

from . import replay
from .models import FailureReason, IdentityProvider, IdpKind

logger = logging.getLogger("manabi.sso.saml")

PROVIDER = "saml"
# What every SAML app runs with, whatever its stored settings say (allauth's "advanced" keys).
FORCED: dict[str, Any] = {
    "strict": True,
    "want_assertion_signed": True,
    "want_message_signed": False,  # most IdPs sign the assertion only; it is what we require
    "reject_idp_initiated_sso": True,
    "reject_deprecated_algorithm": True,  # no SHA-1 signatures or digests
    "want_name_id": True,
    "want_attribute_statement": False,
    "authn_request_signed": False,
    # Our own URLs may be on a one-label host (localhost, a school's intranet name); this
    # only loosens python3-saml's check of the configured URLs, not of responses.
    "allow_single_label_domains": True,
}
METADATA_MAX_BYTES = 1024 * 1024
METADATA_TIMEOUT = (5.0, 10.0)  # connect, read (seconds)
# A replayed assertion is refused for as long as python3-saml would still accept it.
CLOCK_DRIFT = datetime.timedelta(seconds=OneLogin_Saml2_Constants.ALLOWED_CLOCK_DRIFT)
# An assertion without SubjectConfirmationData NotOnOrAfter is remembered this long.
DEFAULT_REMEMBER = datetime.timedelta(hours=1)
PRUNE_EVERY_SECONDS = 300.0
# A response whose signature fails refetches metadata from its URL at most this often.
METADATA_RETRY = datetime.timedelta(seconds=60)

_SIGNATURE_CODES = {
    OneLogin_Saml2_ValidationError.INVALID_SIGNATURE,
    OneLogin_Saml2_ValidationError.WRONG_SIGNED_ELEMENT,
    OneLogin_Saml2_ValidationError.ID_NOT_FOUND_IN_SIGNED_ELEMENT,
    OneLogin_Saml2_ValidationError.DUPLICATED_ID_IN_SIGNED_ELEMENTS,
    OneLogin_Saml2_ValidationError.INVALID_SIGNED_ELEMENT,
    OneLogin_Saml2_ValidationError.DUPLICATED_REFERENCE_IN_SIGNED_ELEMENTS,
    OneLogin_Saml2_ValidationError.UNEXPECTED_SIGNED_ELEMENTS,
    OneLogin_Saml2_ValidationError.WRONG_NUMBER_OF_SIGNATURES_IN_RESPONSE,
    OneLogin_Saml2_ValidationError.WRONG_NUMBER_OF_SIGNATURES_IN_ASSERTION,
    OneLogin_Saml2_ValidationError.WRONG_NUMBER_OF_SIGNATURES,
    OneLogin_Saml2_ValidationError.DEPRECATED_SIGNATURE_METHOD,
    OneLogin_Saml2_ValidationError.DEPRECATED_DIGEST_METHOD,
}
_UNSIGNED_CODES = {
    OneLogin_Saml2_ValidationError.NO_SIGNED_ASSERTION,
    OneLogin_Saml2_ValidationError.NO_SIGNATURE_FOUND,
}
_EXPIRED_CODES = {
    OneLogin_Saml2_ValidationError.ASSERTION_EXPIRED,
    OneLogin_Saml2_ValidationError.ASSERTION_TOO_EARLY,
    OneLogin_Saml2_ValidationError.RESPONSE_EXPIRED,
    OneLogin_Saml2_ValidationError.SESSION_EXPIRED,
}
_CODE_NAMES = {
    value: name
    for name, value in vars(OneLogin_Saml2_ValidationError).items()
    if name.isupper() and isinstance(value, int)
}

_last_prune = 0.0


class SamlRefused(Exception):
    """A SAML response the portal does not accept; ``reason`` goes to the failure log."""

    def __init__(self, reason: FailureReason, detail: str = "", *, status: int = 403) -> None:
        super().__init__(f"{reason}: {detail}" if detail else str(reason))
        self.reason = reason
        self.detail = detail
        self.status = status


class MetadataError(Exception):
    """The IdP's metadata cannot be used; the message says why, for the administrator."""


# --- configuration ------------------------------------------------------------------------


def parse_metadata(xml: str | bytes) -> dict[str, str]:
    """The IdP settings allauth reads (``entity_id``, ``sso_url``, ``x509cert``) from metadata.

    The first IDPSSODescriptor's entity id, its HTTP-Redirect SingleSignOnService and its first
    signing certificate; ``MetadataError`` when one is missing or the XML is not metadata.
    """
    try:
        parsed = OneLogin_Saml2_IdPMetadataParser.parse(xml)
    except (etree.XMLSyntaxError, ValueError) as error:
        raise MetadataError(
            _("XML のメタデータではありません（%(error)s）。") % {"error": type(error).__name__}
        ) from None
    idp = parsed.get("idp") or {}
    entity_id = idp.get("entityId")
    sso_url = (idp.get("singleSignOnService") or {}).get("url")
    certificate = (
        idp.get("x509cert") or ((idp.get("x509certMulti") or {}).get("signing") or [""])[0]
    )
    if not entity_id:
        raise MetadataError(_("IdP の記述（IDPSSODescriptor と entityID）がありません。"))
    if not sso_url:
        raise MetadataError(_("HTTP-Redirect のログインURL（SingleSignOnService）がありません。"))
    if not certificate:
        raise MetadataError(_("署名の証明書（KeyDescriptor use=signing）がありません。"))
    return {"entity_id": entity_id, "sso_url": sso_url, "x509cert": certificate}


def fetch_metadata(url: str) -> dict[str, str]:
    """GET the IdP's metadata URL (http/https, no redirects, 1 MiB at most) and parse it."""
    if not url.startswith(("https://", "http://")):
        raise MetadataError(_("メタデータの URL は http:// か https:// で始めてください。"))
    try:
        with fetching.get(
            url,
            allow_private=settings.LTI_FETCH_PRIVATE_ADDRESSES,
            timeout=METADATA_TIMEOUT,
            headers={"Accept": "application/samlmetadata+xml, application/xml, text/xml"},
        ) as response:
            if response.status_code != 200:
                raise MetadataError(
                    _("メタデータの URL が HTTP %(status)d を返しました。")
                    % {"status": response.status_code}
                )
            body = b""
            for chunk in response.iter_content(64 * 1024):
                body += chunk
                if len(body) > METADATA_MAX_BYTES:
                    raise MetadataError(_("メタデータが 1 MiB より大きいです。"))
    except fetching.PrivateAddress as refused:
        raise MetadataError(
            _("メタデータの URL が内部のアドレス（%(address)s）を指すので取得しません。")
            % {"address": refused.address}
        ) from None
    except (requests.RequestException, OSError) as error:
        raise MetadataError(
            _("メタデータの URL から取得できません（%(error)s）。")
            % {"error": type(error).__name__}
        ) from None
    return parse_metadata(body)


def sp_entity_id(slug: str) -> str:
    """The portal's entity id for one SAML app: its metadata URL under the issuer."""
    return f"{settings.LTI_ISSUER}/accounts/saml/{slug}/metadata/"


def app_settings(
    *,
    slug: str,
    idp: Mapping[str, str],
    metadata_url: str = "",
    attribute_mapping: Mapping[str, list[str]] | None = None,
) -> dict[str, Any]:
    """``SocialApp.settings`` of a SAML app: the IdP (from ``parse_metadata`` or
    ``fetch_metadata``), our entity id and ``FORCED``; ``metadata_url`` for refreshes."""
    result: dict[str, Any] = {
        "idp": {key: idp[key] for key in ("entity_id", "sso_url", "x509cert")},
        "sp": {"entity_id": sp_entity_id(slug)},
        "advanced": dict(FORCED),
    }
    if metadata_url:
        result["metadata_url"] = metadata_url
        result["metadata_fetched_at"] = timezone.now().isoformat()
    if attribute_mapping is not None:
        result["attribute_mapping"] = {key: list(value) for key, value in attribute_mapping.items()}
    return result


def refresh_metadata(idp: IdentityProvider) -> bool:
    """Refetch the metadata of an IdP configured by URL; True when the stored copy changed."""
    app = idp.app
    url = app.settings.get("metadata_url")
    if not url:
        return False
    fetched = fetch_metadata(url)
    changed = fetched != {k: app.settings.get("idp", {}).get(k) for k in fetched}
    app.settings = {
        **app.settings,
        "idp": fetched,
        "metadata_fetched_at": timezone.now().isoformat(),
    }
    app.save(update_fields=["settings"])
    return changed


def enforced(app_config: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of stored SAML settings with ``FORCED`` laid over ``advanced``, and without a
    ``metadata_url`` inside ``idp`` (allauth would fetch it itself, unchecked)."""
    result = dict(app_config)
    result["advanced"] = {**dict(app_config.get("advanced") or {}), **FORCED}
    idp = dict(app_config.get("idp") or {})
    idp.pop("metadata_url", None)
    result["idp"] = idp
    return result


def saml_idp(slug: str) -> IdentityProvider | None:
    """The SAML identity provider whose URLs carry ``slug``, or None."""
    return (
        IdentityProvider.objects.select_related("app", "org")
        .filter(kind=IdpKind.SAML, app__provider=PROVIDER, app__client_id=slug)
        .first()
    )


# --- the ACS gate -------------------------------------------------------------------------


def check_response(request: HttpRequest, idp: IdentityProvider) -> None:
    """Accept the POSTed SAMLResponse once, or raise ``SamlRefused`` (see the docstring)."""
    if not idp.enabled:
        raise SamlRefused(FailureReason.DISABLED)
    posted = request.POST.get("SAMLResponse", "")
    if not posted:
        raise SamlRefused(FailureReason.BAD_RESPONSE, "no SAMLResponse", status=400)
    try:
        response = _valid_response(request, idp, posted)
    except SamlRefused as refusal:
        # The IdP may have rolled its signing key: with metadata from a URL not fetched in the
        # last minute, fetch it and try once more (so at most one fetch a minute per IdP).
        if refusal.reason != FailureReason.BAD_SIGNATURE or not _metadata_may_be_stale(idp):
            raise
        try:
            changed = refresh_metadata(idp)
        except MetadataError:
            logger.warning("SAML metadata of IdP %s could not be refetched", idp.pk)
            raise refusal from None
        if not changed:
            raise
        response = _valid_response(request, idp, posted)
    # Used once, whichever browser brings it: a captured response is a replay even where it
    # answers no sign-in (and is then used up for the browser it was meant for, too).
    if not replay.consume(
        idp=idp,
        assertion_id=response.get_assertion_id() or "",
        expires_at=_remember_until(response.get_assertion_not_on_or_after()),
    ):
        raise SamlRefused(FailureReason.REPLAYED)
    _prune_now_and_then()
    in_response_to = response.get_in_response_to()
    if not in_response_to:
        raise SamlRefused(FailureReason.STATE, "IdP-initiated (no InResponseTo)")
    if in_response_to not in statekit.get_states(request):
        raise SamlRefused(FailureReason.STATE, "InResponseTo is no sign-in of this browser")


def _valid_response(
    request: HttpRequest, idp: IdentityProvider, posted: str
) -> OneLogin_Saml2_Response:
    config = build_saml_config(request, enforced(idp.app.settings), idp.app.client_id)
    try:
        saml_settings = OneLogin_Saml2_Settings(config, sp_validation_only=True)
        response = OneLogin_Saml2_Response(saml_settings, posted)
        response.is_valid(prepare_django_request(request), raise_exceptions=True)
    except OneLogin_Saml2_ValidationError as error:
        raise _refusal(error) from None
    except (OneLogin_Saml2_Error, binascii.Error, etree.XMLSyntaxError, ValueError) as error:
        raise SamlRefused(
            FailureReason.BAD_RESPONSE, f"unreadable ({type(error).__name__})", status=400
        ) from None
    return response


def _metadata_may_be_stale(idp: IdentityProvider) -> bool:
    stored = idp.app.settings
    if not stored.get("metadata_url"):
        return False
    try:
        fetched = datetime.datetime.fromisoformat(str(stored.get("metadata_fetched_at")))
    except ValueError:
        return True
    return timezone.now() - fetched >= METADATA_RETRY


def _refusal(error: OneLogin_Saml2_ValidationError) -> SamlRefused:
    code = error.code
    name = _CODE_NAMES.get(code, str(code))
    if code in _UNSIGNED_CODES:
        return SamlRefused(FailureReason.UNSIGNED_ASSERTION, name)
    if code in _SIGNATURE_CODES:
        return SamlRefused(FailureReason.BAD_SIGNATURE, name)
    if code in _EXPIRED_CODES:
        return SamlRefused(FailureReason.EXPIRED, name)
    if code == OneLogin_Saml2_ValidationError.STATUS_CODE_IS_NOT_SUCCESS:
        return SamlRefused(FailureReason.UPSTREAM_ERROR, name)
    return SamlRefused(FailureReason.BAD_RESPONSE, name)


def _remember_until(not_on_or_after: int | None) -> datetime.datetime:
    now = timezone.now()
    if not_on_or_after is None:
        return now + DEFAULT_REMEMBER
    until = datetime.datetime.fromtimestamp(not_on_or_after, tz=datetime.UTC)
    return max(until, now) + CLOCK_DRIFT


def _prune_now_and_then() -> None:
    """Forget expired assertions at most every ``PRUNE_EVERY_SECONDS`` per process."""
    global _last_prune
    now = time.monotonic()
    if now - _last_prune >= PRUNE_EVERY_SECONDS:
        _last_prune = now
        replay.prune()
