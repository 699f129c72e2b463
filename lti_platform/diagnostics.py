"""Launch diagnostics: every refused authorization request, token request, deep-linking
response, service call and dynamic registration, recorded with a reason the tool's vendor can
act on, for the vendor's and the board's pages (``portal.diagnostics_views``).

One call per endpoint family, where the view renders the refusal (``authorize_refused``,
``token_refused``, ``deep_linking_refused``, ``service_refused``, ``registration_refused``);
the success path records nothing. Recording never turns a refusal into a 500: a failure to
record is logged and the refusal answered as before.

**No personal data.** A row holds the protocol error, its English description, a message key
with its parameters (the page says it in the UI language through gettext), the HTTP status and
the tool. The descriptions the platform writes name parameters, never their values; before
storing, the values of the request's hints, tokens and assertions and anything shaped like a
UUID (an e-portal UUID), an e-mail address or a JWT are replaced. A ``redirect_uri`` is kept
without its query.

**Whose.** A row belongs to its tool (the vendor's page) and, for the boards' pages, to a
deployment when the refusal names one of the tool's own (a service call's URL, a
deep-linking response's ``deployment_id``; kept as the ``deployment`` parameter): only that
deployment's board sees it. A row without a deployment (authorization and token requests)
shows to the boards where the tool is deployed or that approved it (``of_board``).

**Bounded.** The same refusal of the same tool within ``AGGREGATE_SECONDS`` adds to one row's
``count``; rows last seen more than ``LTI_DIAGNOSTICS_RETENTION_DAYS`` (30) days ago are
deleted by a cheap probabilistic delete on insert (one insert in ``PRUNE_ONE_IN``), as
``services.consume_once`` prunes the one-time store. Refusals because the database is busy
(503) are not recorded: writing would wait out the same busy database again.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import urlsplit, urlunsplit

import jwt
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from dbtools.writelock import serialized_writes
from roster.models import Org, OrgType
from tools_registry import grants
from tools_registry.models import Deployment, Registration, Tool
from tools_registry.tool_keys import JwksUnreachable

from . import dynamic_registration, tokens
from .models import DiagnosticKind, LaunchDiagnostic
from .protocol import constants as c
from .protocol import oauth
from .protocol.errors import ProtocolError

logger = logging.getLogger("manabi.diagnostics")

AGGREGATE_SECONDS = 600
PRUNE_ONE_IN = 64
MAX_DESCRIPTION = 500
MAX_PARAM = 200

# --- the reasons: a stable key, the description it matches, the words of the page ---------


@dataclass(frozen=True)
class Reason:
    key: str
    pattern: re.Pattern[str]
    message: str | Promise  # %(name)s placeholders from the pattern's named groups


def _r(key: str, pattern: str, message: str | Promise) -> Reason:
    return Reason(key, re.compile(pattern), message)


REASONS: tuple[Reason, ...] = (
    _r(
        "redirect_uri_mismatch",
        r"^redirect_uri does not match any registered URI: (?P<uri>.+)$",
        _("redirect_uri が登録されたどの URI とも一致しません: %(uri)s"),
    ),
    _r(
        "client_unknown",
        r"^client_id is unknown or not active$|^iss is not the client_id of an active tool$",
        _("client_id が登録されていないか、ツールが有効ではありません。"),
    ),
    _r(
        "jti_reused",
        r"^client_assertion jti has already been used$",
        _("クライアントアサーションの jti はすでに使われています（毎回新しい jti が必要です）。"),
    ),
    _r(
        "unknown_kid",
        r"no key with kid (?P<kid>'.*'|None) in the tool's JWKS$",
        _("ツールの JWKS に kid %(kid)s の鍵がありません。"),
    ),
    _r(
        "jwks_timeout",
        r"^tool JWKS unreachable: (?:connection )?timeout after (?P<seconds>[\d.]+) s",
        _("ツールの JWKS に接続できません: %(seconds)s 秒でタイムアウトしました。"),
    ),
    _r(
        "jwks_http",
        r"^tool JWKS unreachable: HTTP (?P<status>\d+)",
        _("ツールの JWKS を取得できません: HTTP %(status)s が返りました。"),
    ),
    _r(
        "jwks_private_address",
        r"tool JWKS URL resolves to a private address \((?P<address>[^)]{1,64})\)",
        _(
            "ツールの JWKS URL の行き先が内部のアドレス（%(address)s）のため、取得しませんでした"
            "（インターネットから届く公開アドレスにしてください）。"
        ),
    ),
    _r(
        "jwks_unreachable",
        r"^tool JWKS unreachable",
        _("ツールの JWKS を取得できません。"),
    ),
    _r(
        "signature_invalid",
        r"signature is (?:invalid|not valid)",
        _("署名を検証できません（ツールの鍵と署名に使った鍵が違います）。"),
    ),
    _r(
        "assertion_expired",
        r"^client_assertion has expired$",
        _("クライアントアサーションの有効期限が切れています（時計のずれを確認してください）。"),
    ),
    _r(
        "no_deployment",
        r"^the tool has no active deployment$",
        _("ツールは教育委員会や学校に配備されていません。"),
    ),
    _r(
        "not_approved",
        r"^no board where the tool is deployed has approved it$",
        _("ツールを配備した教育委員会がまだ承認していません（承認待ちか却下です）。"),
    ),
    _r(
        "service_not_granted",
        r"^this deployment does not grant the (?P<service>\w+) service$",
        _(
            "この配備では %(service)s の利用が許可されていません"
            "（教育委員会の許可を確認してください）。"
        ),
    ),
    _r(
        "scope_not_granted",
        r"^this deployment does not grant any of the scopes (?P<scopes>.+)$",
        _("この配備では次のスコープが許可されていません: %(scopes)s"),
    ),
    _r(
        "login_required",
        r"^the user is not signed in to the platform$|^the teacher is not signed in",
        _("利用者がまなびハブにサインインしていません。"),
    ),
    _r(
        "login_hint_mismatch",
        r"^login_hint does not match the signed-in user$",
        _("login_hint がサインイン中の利用者のものではありません（そのまま送り返してください）。"),
    ),
    _r(
        "message_hint_expired",
        r"^lti_message_hint has expired$",
        _("lti_message_hint の有効期限が切れています（起動に時間がかかりすぎました）。"),
    ),
    _r(
        "message_hint_reused",
        r"^lti_message_hint has already been used$",
        _("lti_message_hint はすでに使われています（同じ起動は一度だけです）。"),
    ),
    _r(
        "message_hint_invalid",
        r"^lti_message_hint ",
        _("lti_message_hint が正しくありません（変更せずにそのまま送り返してください）。"),
    ),
    _r(
        "not_placed",
        r"^this tool is not placed for this class$|^the launch named by lti_message_hint",
        _("このツールはこのクラスに配置されていません。"),
    ),
    _r(
        "token_invalid",
        r"^the access token is unknown or has expired$",
        _("アクセストークンが不明か、有効期限が切れています。"),
    ),
    _r(
        "insufficient_scope",
        r"^this request needs one of the scopes (?P<scopes>.+)$",
        _("このリクエストには次のスコープのどれかが必要です: %(scopes)s"),
    ),
    _r(
        "parameter_missing",
        r"^(?P<name>[\w ]+) is required$",
        _("%(name)s がありません。"),
    ),
    _r(
        "parameter_value",
        r"^(?P<name>\w+) must be (?P<value>\S+)$",
        _("%(name)s は %(value)s でなければなりません。"),
    ),
    _r(
        "registration_token",
        r"^the registration token (?P<what>is unknown|was already used|has expired)$",
        _("登録トークンが使えません（不明・使用済み・期限切れのどれかです）。"),
    ),
)

OTHER = Reason("other", re.compile(""), _("リクエストを受け付けませんでした。"))
_BY_KEY = {reason.key: reason for reason in (*REASONS, OTHER)}


def classify(description: str) -> tuple[str, dict[str, str]]:
    """The message key of a (scrubbed) description and its parameters."""
    for reason in REASONS:
        match = reason.pattern.search(description)
        if match:
            params = {k: v[:MAX_PARAM] for k, v in match.groupdict().items() if v is not None}
            return reason.key, params
    return OTHER.key, {}


def message(row: LaunchDiagnostic) -> str:
    """The reason of ``row`` in the active language."""
    reason = _BY_KEY.get(row.message_key, OTHER)
    text = str(reason.message)  # gettext_lazy: translated now, in the active language
    try:
        return text % {key: str(value) for key, value in dict(row.params).items()}
    except (KeyError, TypeError, ValueError):
        return str(OTHER.message)


# --- no personal data ---------------------------------------------------------------------

# Anywhere, not between ``\b``s: "user_<uuid>" and "x<uuid>" have no word boundary (a longer
# run of hex digits loses 32 of them: harmless in a diagnostic).
_UUID = re.compile(
    r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
)
# "@" percent-encoded too (a URL's path or query): "taro%40example.jp".
_EMAIL = re.compile(r"[\w.+%-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)
_JWT = re.compile(r"eyJ[\w-]*\.[\w-]*(?:\.[\w-]*)?")


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` without the given values and without anything that looks like a UUID, an
    e-mail address or a JWT; at most ``MAX_DESCRIPTION`` characters."""
    for value in sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True):
        text = text.replace(value, "[omitted]")
    text = _JWT.sub("[jwt]", text)
    text = _EMAIL.sub("[e-mail]", text)
    text = _UUID.sub("[uuid]", text)
    return text[:MAX_DESCRIPTION]


def _without_query(uri: str) -> str:
    try:
        parts = urlsplit(uri)
    except ValueError:
        return "(not a URL)"
    netloc = parts.netloc.rpartition("@")[2]  # never a user name or password
    shown = urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    return shown + (" (query omitted)" if parts.query else "")


# --- recording ----------------------------------------------------------------------------


def _cause_reason(exc: BaseException) -> str | None:
    """The ``JwksUnreachable`` reason behind ``exc``, if a failed JWKS fetch caused it."""
    seen: BaseException | None = exc
    for _depth in range(5):
        if seen is None:
            return None
        if isinstance(seen, JwksUnreachable):
            return seen.reason
        seen = seen.__cause__
    return None


def _registration_for(client_id: str) -> Registration | None:
    if not client_id or len(client_id) > 64:
        return None
    return Registration.objects.filter(client_id=client_id).first()


def _fingerprint(kind: str, owner: str, error: str, status: int, description: str) -> str:
    raw = "\x1f".join((kind, owner, error, str(status), description))
    return hashlib.sha256(raw.encode()).hexdigest()


def retention_days() -> int:
    return int(getattr(settings, "LTI_DIAGNOSTICS_RETENTION_DAYS", 30))


def prune(*, now: datetime.datetime | None = None) -> int:
    """Delete the rows last seen longer than the retention ago; return how many."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=retention_days())
    deleted, _rows = LaunchDiagnostic.objects.filter(last_seen_at__lt=cutoff).delete()
    return deleted


def record(
    kind: DiagnosticKind,
    *,
    error: str,
    description: str,
    status: int,
    client_id: str = "",
    registration: Registration | None = None,
    secrets: Iterable[str] = (),
    deployment: Deployment | None = None,
) -> None:
    """Record one refusal (or count it on the row of the same recent refusal), with the
    deployment it names when that is one of the tool's own. Never raises."""
    if int(status) == HTTPStatus.SERVICE_UNAVAILABLE:
        return
    try:
        _record(kind, error, description, int(status), client_id, registration, secrets, deployment)
    except Exception:  # a diagnostic must never turn a refusal into a 500
        logger.exception("could not record a %s diagnostic", kind)


def _record(
    kind: DiagnosticKind,
    error: str,
    description: str,
    status: int,
    client_id: str,
    registration: Registration | None,
    secrets: Iterable[str],
    deployment: Deployment | None,
) -> None:
    client_id = scrub(client_id, secrets)[:64]
    if registration is None:
        registration = _registration_for(client_id)
    description = scrub(description, secrets)
    error = scrub(error, secrets)[:64]
    key, found = classify(description)
    params: dict[str, str | int] = dict(found)
    owner = f"r{registration.pk}" if registration is not None else f"c{client_id}"
    if (
        deployment is not None
        and registration is not None
        and deployment.registration_id == registration.pk
    ):
        params = {**params, "deployment": deployment.pk}  # whose board sees it: ``of_board``
        owner += f"/d{deployment.pk}"
    fingerprint = _fingerprint(kind, owner, error, status, description)
    now = timezone.now()
    with serialized_writes(), transaction.atomic():
        counted = LaunchDiagnostic.objects.filter(
            fingerprint=fingerprint,
            last_seen_at__gte=now - datetime.timedelta(seconds=AGGREGATE_SECONDS),
        ).update(count=F("count") + 1, last_seen_at=now)
        if not counted:
            LaunchDiagnostic.objects.create(
                registration=registration,
                client_id=client_id if registration is None else registration.client_id,
                kind=kind,
                error=error,
                description=description,
                message_key=key,
                params=params,
                status=status,
                fingerprint=fingerprint,
                created_at=now,
                last_seen_at=now,
            )
    if not counted and random.random() < 1 / PRUNE_ONE_IN:  # noqa: S311  (housekeeping)
        prune(now=now)


def _values(params: Mapping[str, str], names: Iterable[str]) -> list[str]:
    """The values of ``names`` in ``params`` (missing ones as "")."""
    return [params.get(name, "") for name in names]


# The request values that may name a person or be a credential: never stored.
_AUTHORIZE_SECRETS = ("login_hint", "lti_message_hint", "id_token", "nonce", "state")


def authorize_refused(
    params: Mapping[str, str], *, error: str, description: str, status: int
) -> None:
    """A refused OIDC authentication request: answered to the redirect_uri or as a page."""
    if description == "redirect_uri is not registered for this client":
        uri = _without_query(params.get("redirect_uri", ""))
        description = f"redirect_uri does not match any registered URI: {uri}"
    record(
        DiagnosticKind.AUTHORIZE,
        error=error,
        description=description,
        status=status,
        client_id=params.get("client_id", ""),
        secrets=_values(params, _AUTHORIZE_SECRETS),
    )


def _unverified_claim(token: str, name: str) -> str:
    try:
        value = jwt.decode(token, options={"verify_signature": False}).get(name)
    except (jwt.PyJWTError, ValueError, TypeError, AttributeError):
        return ""
    return value if isinstance(value, str) else ""


def token_refused(form: Mapping[str, str], exc: ProtocolError) -> None:
    """A refused token request (the client_id is the assertion's, unverified)."""
    assertion = form.get("client_assertion", "")
    try:
        client_id = oauth.peek_assertion(assertion).client_id if assertion else ""
    except ProtocolError:
        client_id = ""
    record(
        DiagnosticKind.TOKEN,
        error=exc.error,
        description=_cause_reason(exc) or exc.description,
        status=int(exc.status),
        client_id=client_id,
        secrets=[assertion],
    )


def _deployment_named(registration: Registration | None, deployment_id: str) -> Deployment | None:
    """The tool's own deployment with this ``deployment_id`` (never another tool's)."""
    if registration is None or not deployment_id or len(deployment_id) > 255:
        return None
    return Deployment.objects.filter(registration=registration, deployment_id=deployment_id).first()


def deep_linking_refused(token: str, exc: ProtocolError) -> None:
    """A refused LtiDeepLinkingResponse (the client_id is the JWT's ``iss``, and the
    deployment its ``deployment_id`` claim, both unverified: only one of that tool's own)."""
    reason = _cause_reason(exc)
    client_id = _unverified_claim(token, "iss") if token else ""
    deployment = None
    try:
        registration = _registration_for(client_id)
        deployment = _deployment_named(
            registration, _unverified_claim(token, c.CLAIM_DEPLOYMENT_ID) if token else ""
        )
    except Exception:  # as in ``record``: never a 500 from a diagnostic
        logger.exception("could not find the deployment of a deep-linking response")
    record(
        DiagnosticKind.DEEP_LINKING,
        error=exc.error,
        description=f"the tool's key was not found: {reason}" if reason else exc.description,
        status=int(exc.status),
        client_id=client_id,
        secrets=[token],
        deployment=deployment,
    )


def service_refused(
    registration: Registration | None,
    exc: ProtocolError,
    *,
    authorization: str,
    deployment_pk: int | None = None,
) -> None:
    """A refused AGS or NRPS call (the tool: the one whose Bearer token was sent; the
    deployment: the one of the URL, when it is that tool's)."""
    _scheme, _sep, credentials = authorization.partition(" ")
    deployment = None
    try:
        if registration is None:
            registration = tokens.registration_of_bearer(authorization)
        if registration is not None and deployment_pk is not None:
            deployment = Deployment.objects.filter(
                pk=deployment_pk, registration=registration
            ).first()
    except Exception:  # as in ``record``: never a 500 from a diagnostic
        logger.exception("could not find the tool of a Bearer token")
    record(
        DiagnosticKind.SERVICE,
        error=exc.error,
        description=exc.description,
        status=int(exc.status),
        registration=registration,
        secrets=[credentials.strip()],
        deployment=deployment,
    )


def registration_refused(exc: ProtocolError, *, authorization: str) -> None:
    """A refused Dynamic Registration request (the tool when its token made or re-registers
    one)."""
    _scheme, _sep, credentials = authorization.partition(" ")
    try:
        registration = dynamic_registration.registration_of_token(authorization)
    except Exception:  # as in ``record``: never a 500 from a diagnostic
        logger.exception("could not find the registration of a registration token")
        registration = None
    record(
        DiagnosticKind.REGISTRATION,
        error=exc.error,
        description=exc.description,
        status=int(exc.status),
        registration=registration,
        secrets=[credentials.strip()],
    )


# --- reading ------------------------------------------------------------------------------

PAGE_ROWS = 200


@dataclass(frozen=True)
class Shown:
    """One diagnostic as a page shows it (``message`` in the active language)."""

    row: LaunchDiagnostic
    message: str
    status_text: str  # "400 Bad Request"


def _status_text(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def _shown(rows: Iterable[LaunchDiagnostic]) -> list[Shown]:
    return [Shown(row, message(row), _status_text(row.status)) for row in rows]


def of_tool(tool: Tool) -> list[Shown]:
    """The newest diagnostics of ``tool``'s registration (the caller checked the vendor)."""
    rows = LaunchDiagnostic.objects.filter(registration__tool=tool).select_related(
        "registration__tool"
    )
    return _shown(rows.order_by("-last_seen_at", "-pk")[:PAGE_ROWS])


def of_board(board: Org) -> list[Shown]:
    """The newest diagnostics attributable to ``board`` (the caller checked that the acting
    user administers the board): those naming a deployment to the board or one of its
    schools, and those naming none of a tool deployed in the board or approved for it
    (``grants.approved_by_board``: its own decision). Another board's deployment's rows never
    show."""
    deployments = Deployment.objects.filter(
        Q(org=board) | Q(org__parent=board, org__type=OrgType.SCHOOL)
    )
    mine = list(deployments.values_list("pk", flat=True))
    tools = Registration.objects.filter(
        Q(pk__in=deployments.values("registration_id")) | grants.approved_by_board(board)
    ).values("pk")
    rows = LaunchDiagnostic.objects.filter(
        Q(params__deployment__in=mine)
        | (~Q(params__has_key="deployment") & Q(registration__in=tools))
    ).select_related("registration__tool")
    return _shown(rows.order_by("-last_seen_at", "-pk")[:PAGE_ROWS])
