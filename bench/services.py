"""Load benchmark of the LTI Advantage services: AGS score POSTs, the token endpoint, NRPS.

In a throw-away installation (bench/common.py) the bench registers a tool with ``manage.py
register_tool`` (static public key, AGS and NRPS, privacy level ``name``, deployed to the demo
district, placed in class 5-2 and in a fresh class), adds 1,000 students enrolled in both,
starts the server and, playing the tool's back end over raw HTTP/1.1 on 127.0.0.1:

0. launches once into each class as a signed-in student and reads the service URLs from the
   id_token's AGS and NRPS claims, as a tool learns them;
1. POSTs scores (one access token, one line item made through AGS, valid scores with rising
   timestamps, round-robin over the students) from 32 clients, one keep-alive connection each;
   only 204 counts, and the database must hold one score event per 204;
2. POSTs to ``/lti/token``, each with a fresh RS256 client assertion signed BEFORE the window;
3. GETs the NRPS memberships of the 1,000-member class sequentially: ``limit=1000`` and the
   default page; and, for scale, ``GET /lti/jwks`` under load (the floor of any request).

``--profile N`` then calls the product's WSGI application in-process (no HTTP server): the SQL,
CPU and cProfile of a score POST. Serving variants are topologies (the product's settings).

    .venv/bin/python -m bench.services                     # defaults, ~1.5 min
    .venv/bin/python -m bench.services --topology gthread2x1
    .venv/bin/python -m bench.services --profile 300       # and the in-process profile
    .venv/bin/python -m bench.services --profile-only      # set up, profile, no load
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import math
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from bench import common
from bench.common import Connection, Installation, LoadResult

TARGET_RATE, TARGET_P99_MS = 500, 100.0  # score POSTs per second with p99 under this, 2 cores
SCHOOL, SCORE_CLASS, NRPS_CLASS = "B113210000010", "5-2", "bench-nrps"
TOOL_SLUG, STUDENT_PREFIX, KID = "bench-services", "bench-svc-", "bench-tool-key"
SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
CLAIM_AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
CLAIM_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
CLAIM_LINK = "https://purl.imsglobal.org/spec/lti/claim/resource_link"
FORM = "application/x-www-form-urlencoded"
MEDIA_SCORE = "application/vnd.ims.lis.v1.score+json"
MEDIA_LINEITEM = "application/vnd.ims.lis.v2.lineitem+json"
MEDIA_MEMBERSHIPS = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
MAX_POOL = 20_000  # pre-signed assertions at most (~0.7 ms of signing each)


def populate(students: int) -> dict[str, Any]:
    """(Django) The bench tool (``register_tool``), its classes and students, one signed in."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from django.conf import settings
    from django.db import transaction
    from django.urls import reverse

    from roster.models import SchoolClass
    from tools_registry.models import Placement

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_path = Path(settings.DATA_DIR) / "bench_tool_key.pem"
    pem = serialization.Encoding.PEM
    key_path.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    public = key.public_key().public_bytes(pem, serialization.PublicFormat.SubjectPublicKeyInfo)
    score_class = SchoolClass.objects.get(school__identifier=SCHOOL, class_code=SCORE_CLASS)
    nrps_class = common.add_classes(score_class, [NRPS_CLASS])[0]
    tool = common.register_tool(
        TOOL_SLUG,
        [score_class, nrps_class],
        public_key_pem=public.decode(),
        allowed_services=["ags", "nrps"],
        privacy_level="name",  # members carry names: the larger NRPS body
    )
    with transaction.atomic():
        users = common.add_students(STUDENT_PREFIX, [[score_class, nrps_class]] * students)
        cookie = common.sign_in(users[:1])[0]
    placed = Placement.objects.filter(deployment__registration__client_id=tool["client_id"])
    link = {p.school_class_id: p.resource_link_id for p in placed}
    return tool | {
        "key_pem": str(key_path),
        "token_url": settings.LTI_ISSUER + reverse("lti_platform:token"),
        "user_ids": [str(u.eportal_uuid) for u in users],
        "cookie": cookie,
        "launches": {
            name: reverse("lti_platform:launch", args=[link[c.pk], c.sourced_id])
            for name, c in (("score", score_class), ("nrps", nrps_class))
        },
    }


class Tool:
    """The bench tool's back end: client assertions, token and service requests."""

    def __init__(self, data: dict[str, Any], port: int) -> None:
        from cryptography.hazmat.primitives import serialization

        self.data, self.port = data, port
        pem = Path(data["key_pem"]).read_bytes()
        self.key: Any = serialization.load_pem_private_key(pem, password=None)

    def assertion(self) -> str:
        import jwt

        now, cid = int(time.time()), self.data["client_id"]
        claims = {"iss": cid, "sub": cid, "aud": self.data["token_url"], "iat": now}
        claims |= {"exp": now + 600, "jti": secrets.token_urlsafe(18)}
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": KID})

    def token_form(self, *scopes: str) -> bytes:
        kind = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        form = {"grant_type": "client_credentials", "client_assertion_type": kind}
        form |= {"client_assertion": self.assertion(), "scope": " ".join(scopes)}
        return urlencode(form).encode()

    def raw(self, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
        return common.raw_request(self.port, method, path, headers, body)

    def once(self, raw: bytes, expect: int, what: str) -> bytes:
        status, _, body = common.fetch(self.port, raw)
        if status != expect:
            sys.exit(f"{what}: HTTP {status} {body[:400]!r}")
        return body

    def token(self, *scopes: str) -> str:
        raw = self.raw("POST", "/lti/token", {"Content-Type": FORM}, self.token_form(*scopes))
        return str(json.loads(self.once(raw, 200, "token endpoint"))["access_token"])

    def service_urls(self, launch_path: str) -> dict[str, Any]:
        """Launch as the signed-in student; the id_token's AGS and NRPS claims."""
        import jwt

        redirect = quote(self.data["redirect_uri"], safe="").encode()

        async def once() -> common.Reply:
            conn = Connection(self.port)
            try:
                cookie = self.data["cookie"].encode()
                return await common.launch(conn, cookie, launch_path.encode(), redirect)
            finally:
                conn.close()

        error, reply = asyncio.run(once())
        if error:
            sys.exit(f"launch {launch_path}: {error} {reply!r}")
        return dict(jwt.decode(reply, options={"verify_signature": False}))

    def line_item(self, lineitems: str, token: str, resource_link_id: str) -> str:
        """POST a line item through the real AGS endpoint; return its scores path."""
        item = {"label": "ベンチ小テスト", "scoreMaximum": 100, "resourceLinkId": resource_link_id}
        auth = {"Authorization": f"Bearer {token}"}
        headers = auth | {"Content-Type": MEDIA_LINEITEM, "Accept": MEDIA_LINEITEM}
        raw = self.raw("POST", lineitems, headers, json.dumps(item).encode())
        return urlsplit(json.loads(self.once(raw, 201, "line item POST"))["id"]).path + "/scores"


class ScoreFeed:
    """Valid score bodies: round-robin over the students, timestamps 1 ms apart, increasing."""

    def __init__(self, user_ids: list[str], days_later: int = 0) -> None:
        self.user_ids = user_ids
        self.base = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=days_later)
        self.sent = 0

    def __call__(self) -> bytes:
        i, self.sent = self.sent, self.sent + 1
        stamp = self.base + datetime.timedelta(milliseconds=i)
        score = {"userId": self.user_ids[i % len(self.user_ids)], "scoreGiven": i % 101}
        score |= {"scoreMaximum": 100, "comment": "よくできました"}
        score |= {"activityProgress": "Completed", "gradingProgress": "FullyGraded"}
        score["timestamp"] = stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return json.dumps(score, ensure_ascii=False).encode()


def replies(make: Callable[[], bytes | None], expect: int) -> common.Step:
    """A load step: send the next request ``make`` builds; good when it answers ``expect``."""

    async def step(conn: Connection) -> common.Reply | None:
        raw = make()
        if raw is None:
            return None
        status, _, body = await conn.request(raw)
        return ("" if status == expect else f"HTTP {status}", body[:400])

    return step


def nrps_series(
    server: common.Server, tool: Tool, path: str, token: str, count: int
) -> tuple[LoadResult, dict[str, Any]]:
    """``count`` sequential GETs on one keep-alive connection after 3 warm-up ones."""
    headers = {"Authorization": f"Bearer {token}", "Accept": MEDIA_MEMBERSHIPS}
    raw = tool.raw("GET", path, headers)
    seen: dict[str, Any] = {"sizes": []}

    async def step(conn: Connection) -> common.Reply:
        status, _, body = await conn.request(raw)
        if status != 200:
            return f"HTTP {status}", body[:400]
        seen["sizes"].append(len(body))
        seen.setdefault("members", len(json.loads(body)["members"]))
        seen.setdefault("next", b'rel="next"' in conn.head)
        return "", b""

    common.measure(server, step, concurrency=1, seconds=60, cap=3)
    seen["sizes"].clear()
    return common.measure(server, step, concurrency=1, seconds=300, cap=count), seen


def count_rows(models: list[str]) -> dict[str, int]:
    """(Django) Rows of each "app.Model" (-1: no such model any more)."""
    from django.apps import apps

    counts = {}
    for name in models:
        try:
            counts[name] = apps.get_model(name).objects.count()
        except LookupError:
            counts[name] = -1
    return counts


def target_met(r: LoadResult) -> bool:
    return (
        r.ok > 0 and r.rate >= TARGET_RATE and r.percentile(0.99) < TARGET_P99_MS and not r.errors
    )


def measure_all(inst: Installation, args: argparse.Namespace) -> dict[str, Any]:
    """Every measurement against one server; print the report; return what the profile needs."""
    with common.serve(inst, args.topology) as server:
        print(f"started {args.topology.name} ({args.topology.label}) on port {server.port}")
        tool = Tool(inst.data, server.port)
        claims = tool.service_urls(inst.data["launches"]["score"])
        nrps = tool.service_urls(inst.data["launches"]["nrps"])[CLAIM_NRPS]
        score_token, nrps_token = tool.token(SCOPE_SCORE, SCOPE_LINEITEM), tool.token(SCOPE_NRPS)
        lineitems = urlsplit(claims[CLAIM_AGS]["lineitems"]).path
        score_path = tool.line_item(lineitems, score_token, claims[CLAIM_LINK]["id"])
        nrps_path = urlsplit(nrps["context_memberships_url"]).path
        print(f"token (score lineitem) obtained; line item created: POST {score_path}")
        plan = {"score_path": score_path, "token": score_token}
        plan["user_ids"] = inst.data["user_ids"]
        if args.profile_only:
            return plan

        def load(seconds: float, make: Callable[[], bytes | None], expect: int) -> LoadResult:
            common.wait_for_quiet(args.quiet_wait)
            step = replies(make, expect)
            return common.measure(
                server, step, concurrency=args.concurrency, seconds=seconds, cap=args.max_requests
            )

        jwks = tool.raw("GET", "/lti/jwks", {})
        floor = load(args.floor_seconds, lambda: jwks, 200)
        common.report("GET /lti/jwks (the floor: middleware, no DB)", floor)

        feed = ScoreFeed(inst.data["user_ids"])
        auth = {"Authorization": f"Bearer {score_token}", "Content-Type": MEDIA_SCORE}
        score_warm = load(args.warmup, lambda: tool.raw("POST", score_path, auth, feed()), 204)
        common.report("score POST warm-up", score_warm)
        scores = load(args.seconds, lambda: tool.raw("POST", score_path, auth, feed()), 204)
        common.report("score POSTs", scores)

        def presigned(count: int) -> tuple[Callable[[], bytes | None], float]:
            t0 = time.perf_counter()
            forms = [tool.token_form(SCOPE_SCORE, SCOPE_LINEITEM) for _ in range(count)]
            sign_ms = 1000 * (time.perf_counter() - t0) / count
            pool = iter([tool.raw("POST", "/lti/token", {"Content-Type": FORM}, f) for f in forms])
            return lambda: next(pool, None), sign_ms

        warm = load(args.warmup, presigned(600)[0], 200)
        size = min(MAX_POOL, max(500, math.ceil(warm.rate * args.token_seconds * 1.3) + 200))
        pool, sign_ms = presigned(size)
        common.report("token warm-up", warm)
        print(f"  pre-signed {size} assertions, {sign_ms:.3f} ms each (the window ends if used up)")
        tokens = load(args.token_seconds, pool, 200)
        common.report("token requests", tokens)

        pages = [
            (label, *nrps_series(server, tool, nrps_path + query, nrps_token, args.nrps_requests))
            for label, query in (("limit=1000", "?limit=1000"), ("default page", ""))
        ]
    models = ["lti_platform.ScoreEvent", "lti_platform.Score", "lti_platform.AccessToken"]
    counts = inst.call("bench.services:count_rows", models=models)
    replied = score_warm.ok + scores.ok
    mismatch = counts[models[0]] not in (replied, -1)
    inst.keep = inst.keep or mismatch
    print(
        f"\nstored after the run: {counts[models[0]]} score events (204 replies: {replied}"
        f"{': MISMATCH' if mismatch else ''}), {counts[models[1]]} current scores, "
        f"{counts[models[2]]} access tokens (-1: no such model)\n\n{args.concurrency} "
        f"concurrent clients, keep-alive, topology {args.topology.name}\n"
    )
    rows = [("GET /lti/jwks (floor)", floor), ("AGS score POST", scores), ("token POST", tokens)]
    common.print_table("requests", "per s", "request", rows)
    print(
        f"\nratios (server CPU, same run): score POST = {scores.server_ms / floor.server_ms:.1f}× "
        f"the jwks floor; token = {tokens.server_ms / floor.server_ms:.1f}× the floor, "
        f"{tokens.server_ms / sign_ms:.1f}× the client's RS256 sign of its assertion\n\n"
        "NRPS, 1,000-member class, sequential on one keep-alive connection:\n"
    )
    common.print_table("NRPS request", "per s", "request", [(label, r) for label, r, _ in pages])
    for label, r, seen in pages:
        size = statistics.median(seen["sizes"] or [0])
        print(
            f"  {label}: {r.ok} requests, body {size:.0f} bytes, {seen.get('members')} members, "
            f"next link {'yes' if seen.get('next') else 'no'}"
        )
    met = "met" if target_met(scores) else "MISSED"
    print(
        f"\ntarget: ≥ {TARGET_RATE} score POSTs/s with p99 < {TARGET_P99_MS:.0f} ms on 2 cores "
        f"(this machine: {common.CORES}): {met} — {scores.rate:.0f}/s, p99 "
        f"{scores.percentile(0.99):.1f} ms, errors {dict(scores.errors) or 0}"
    )
    inst.keep = inst.keep or bool(
        scores.errors or tokens.errors or any(r.errors for _, r, _ in pages)
    )
    return plan


def profile(count: int, score_path: str, token: str, user_ids: list[str]) -> None:
    """(Django) Where a score POST's time goes, through the product's WSGI application."""
    app = common.Wsgi()
    feed = ScoreFeed(user_ids[:50], days_later=1)  # later than the served run's scores
    auth = {"Authorization": f"Bearer {token}", "Content-Type": MEDIA_SCORE}

    def post_score() -> None:
        status, _, reply = app("POST", score_path, auth, feed())
        assert status == 204, (status, reply[:300])

    common.profile("an AGS score POST", post_score, count)


def main() -> None:
    parser = common.arguments(__doc__, students=1000, quiet_wait=5.0)
    parser.add_argument("--token-seconds", type=float, default=10.0, help="token window")
    parser.add_argument("--floor-seconds", type=float, default=5.0, help="GET /lti/jwks window")
    parser.add_argument("--max-requests", type=int, default=1_000_000, help="cap per window")
    parser.add_argument("--nrps-requests", type=int, default=50)
    parser.add_argument("--profile-only", action="store_true", help="set up, profile, no load")
    args = parser.parse_args()
    windows = (args.seconds, args.token_seconds, args.floor_seconds, args.warmup)
    if not (1 <= args.concurrency <= 1024 and all(0 < s <= 600 for s in windows)):
        parser.error("--concurrency must be 1..1024 and every window 0..600 s")
    args.profile = args.profile or (300 if args.profile_only else 0)

    with common.installation("bench.services:populate", args, students=args.students) as inst:
        plan = measure_all(inst, args)
        if args.profile:
            print("\n== in-process profile (config.wsgi, no HTTP server)", flush=True)
            inst.call("bench.services:profile", quiet=False, count=args.profile, **plan)


if __name__ == "__main__":
    main()
