"""CPU of a child's "Sign in with まなびハブ" to a non-LTI tool, through the product's WSGI
application in-process (no HTTP server): the authorization request with the child's session
(→ 302 with a code), the tool's code exchange at the token endpoint (client_secret_basic,
PKCE S256: → the ID token, RS256), and the tool's UserInfo request.

In a throw-away installation (bench/common.py) with ``--students`` children over the demo
homerooms, each signed in by Django's login, a client registered by the demo board's own
service (``oidc_clients.services.register_client``, level name_email). It prints the CPU per
sign-in (three requests), the wall-time median and p99, what 2,000 children would cost on this
machine's cores, and — why client secrets are not hashed with PBKDF2 — one PBKDF2 check of a
secret at Django's default work factor next to one check of the stored salted SHA-256.

    .venv/bin/python -m bench.oidc_provider                  # 300 sign-ins
    .venv/bin/python -m bench.oidc_provider --count 1000 --students 1000
    .venv/bin/python -m bench.oidc_provider --profile   # and the SQL and cProfile of one
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import itertools
import json
import statistics
import time
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from bench import common

REDIRECT_URI = "https://tool.example/oidc/callback"


def populate(students: int) -> dict[str, Any]:
    """(Django) Students over the demo homerooms, signed in, and the board's OIDC client."""
    from oidc_clients import services
    from roster.models import ClassType, OrgType, RosterRole, SchoolClass, User
    from tools_registry.models import PrivacyLevel

    homerooms = list(
        SchoolClass.objects.filter(class_type=ClassType.HOMEROOM).select_related("school")
    )
    users = common.add_students("oidc-", [[homerooms[i % len(homerooms)]] for i in range(students)])
    admin = User.objects.get(role=RosterRole.DISTRICT_ADMINISTRATOR, org__type=OrgType.DISTRICT)
    assert admin.org is not None
    issued = services.register_client(
        acting_user=admin,
        board=admin.org,
        values=services.ClientSettings(
            name="bench tool",
            redirect_uris=[REDIRECT_URI],
            privacy_level=PrivacyLevel.NAME_EMAIL,
        ),
    )
    return {
        "client_id": issued.oidc_client.client_id,
        "secret": issued.secret,
        "cookies": common.sign_in(users),
    }


def measure(
    count: int, client_id: str, secret: str, cookies: list[str], profile: bool = False
) -> dict[str, Any]:
    """(Django) ``count`` sign-ins through the WSGI application; CPU and wall per sign-in."""
    from django.contrib.auth.hashers import check_password, make_password
    from django.urls import reverse

    from oidc_clients.hashers import ClientSecretHasher

    app = common.Wsgi()
    turn = itertools.cycle(cookies)
    basic = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    authorize, token_path = reverse("idp:oidc:authorization"), reverse("idp:oidc:token")
    userinfo = reverse("idp:oidc:userinfo")

    def sign_in() -> None:
        verifier = base64.urlsafe_b64encode(hashlib.sha256(next(turn).encode()).digest())
        verifier = verifier.rstrip(b"=") + b"-bench-verifier-43-characters"
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=")
        query = urlencode(
            {
                "client_id": client_id,
                "redirect_uri": REDIRECT_URI,
                "response_type": "code",
                "scope": "openid profile email",
                "state": "bench",
                "nonce": "bench",
                "code_challenge": challenge.decode(),
                "code_challenge_method": "S256",
            }
        )
        cookie = next(turn)
        status, headers, body = app("GET", f"{authorize}?{query}", {"Cookie": cookie})
        assert status == 302, (status, body[:300])
        code = parse_qs(urlsplit(headers["Location"]).query)["code"][0]
        form = urlencode(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT_URI,
                "code_verifier": verifier.decode(),
            }
        ).encode()
        form_type = "application/x-www-form-urlencoded"
        status, _, body = app(
            "POST", token_path, {"Authorization": basic, "Content-Type": form_type}, form
        )
        assert status == 200, (status, body[:300])
        access = json.loads(body)["access_token"]
        status, _, body = app("GET", userinfo, {"Authorization": f"Bearer {access}"})
        assert status == 200, (status, body[:300])

    if profile:
        common.profile('a "Sign in with" (authorize + token + UserInfo)', sign_in, count)
    walls, cpu_ms = common.per_call(sign_in, count)
    walls.sort()
    slow = make_password(secret)  # Django's default hasher (PBKDF2) at its work factor
    fast = make_password(secret, hasher=ClientSecretHasher.algorithm)
    checks = {}
    for label, encoded in (("pbkdf2", slow), ("sha256", fast)):
        cpu0 = time.process_time()
        for _ in range(3):
            assert check_password(secret, encoded)
        checks[label] = 1000 * (time.process_time() - cpu0) / 3
    return {
        "count": count,
        "cpu_ms": cpu_ms,
        "median_ms": statistics.median(walls),
        "p99_ms": walls[min(len(walls) - 1, int(0.99 * len(walls)))],
        "pbkdf2_ms": checks["pbkdf2"],
        "sha256_ms": checks["sha256"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--count", type=int, default=300, help="sign-ins measured")
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--profile", action="store_true", help="also print SQL and cProfile")
    args = parser.parse_args()
    if not 1 <= args.count <= 20_000 or not 1 <= args.students <= 20_000:
        parser.error("--count and --students must be 1..20000")
    with common.installation("bench.oidc_provider:populate", args, students=args.students) as inst:
        r = inst.call(
            "bench.oidc_provider:measure",
            quiet=not args.profile,
            count=args.count,
            profile=args.profile,
            **inst.data,
        )
    children = 2000
    core_s = children * r["cpu_ms"] / 1000
    print(
        f'\n"Sign in with" (authorize + token + UserInfo, in-process, {r["count"]} sign-ins):'
        f"\n  CPU {r['cpu_ms']:.1f} ms per sign-in; wall median {r['median_ms']:.1f} ms, "
        f"p99 {r['p99_ms']:.1f} ms"
        f"\n  {children} children: {core_s:.0f} core-seconds, "
        f"{core_s / common.CORES:.0f} s on this machine's {common.CORES} cores"
        f"\n  client secret check: PBKDF2 (Django's default) {r['pbkdf2_ms']:.0f} ms, "
        f"salted SHA-256 (stored) {r['sha256_ms']:.3f} ms per token request"
    )


if __name__ == "__main__":
    main()
