"""Load benchmark of the LTI Advantage services: AGS score POSTs, the token endpoint, NRPS.

The bench builds a throw-away installation (temporary MANABI_DATA_DIR, migrate, seed_demo), then
registers a bench tool with a static public key and ``allowed_services`` ["ags", "nrps"],
deployed to the demo district 13210 with a placement at school B113210000010 class 5-2, adds
1,000 students enrolled in 5-2 and in a fresh class of exactly those 1,000 (the NRPS context),
starts the server (gunicorn with config/gunicorn.conf.py) and measures, through real HTTP:

1. ``POST …/lineitems/<id>/scores`` (``application/vnd.ims.lis.v1.score+json``, Bearer token)
   from 32 concurrent clients (asyncio, raw HTTP/1.1, one keep-alive connection per client, as
   a tool's back end keeps one): ONE access token (scopes score + lineitem) from the real token
   endpoint, ONE line item from the real AGS endpoint, then valid scores with strictly
   increasing timestamps, round-robin over the 1,000 students. Only 204 counts; anything else is
   an error and is shown. Server CPU per POST is utime+stime of the server's process tree.
2. ``POST /lti/token``: each request with a fresh client assertion (RS256, unique jti),
   pre-signed in this process BEFORE the window (the bench's signing CPU does not compete with
   the server; the pool is sized from a warm-up rate and ends the window early if it runs out).
3. ``GET /lti/nrps/<deployment>/<class>/memberships`` of the 1,000-member class, sequentially
   on one keep-alive connection: ``limit=1000`` and the default limit (100).
4. For scale, in the same run: ``GET /lti/jwks`` under the same load (gunicorn + all
   middleware, no database: the floor of any request), and with the server stopped a bare
   sha256 + indexed SQLite lookup of the access token and a bare RS256 verify of an assertion.

It prints the issue's target (≥ 500 score POSTs/s with p99 < 100 ms on 2 cores). When it is
missed, the bench

- serves "what if" variants of the score path (``WHAT_IFS``: suggested changes, applied by
  monkeypatching in each gunicorn worker through the app factory
  ``bench.services:what_if_application``; no file of the application changes) and measures
  score POSTs against them as above, with the same token and line item;
- profiles the score POST path in-process (the WSGI application called as a gunicorn worker
  calls it): captured SQL, CPU per component, SQLite write-lock hold time, the variants
  cumulatively, cProfile; and the token endpoint's components.

    .venv/bin/python -m bench.services                     # defaults, ~2.5 min
    .venv/bin/python -m bench.services --topology sync2    # another serving topology
    .venv/bin/python -m bench.services --what-if all@sync2 --what-if as-is@sync2
    .venv/bin/python -m bench.services --profile-only      # only the in-process profile

Only 127.0.0.1 is contacted; every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import datetime
import hashlib
import http.client
import io
import json
import math
import os
import pstats
import secrets
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from bench.launch_flow import (
    HOST,
    REQUEST_TIMEOUT,
    ROOT,
    TOPOLOGIES,
    Connection,
    HttpError,
    Installation,
    LoadResult,
    Server,
    django_env,
    free_port,
    git_describe,
    run_step,
    running_server,
    tree_cpu_seconds,
    uvicorn_available,
    wait_for_quiet,
    with_cpu_accounting,
)

TARGET_RATE = 500  # score POSTs per second …
TARGET_P99_MS = 100.0  # … with p99 under this, on 2 cores (the target)

DISTRICT = "13210"
SCHOOL = "B113210000010"
SCORE_CLASS = "5-2"
NRPS_CLASS = "bench-nrps"
TOOL_SLUG = "bench-services"
STUDENT_PREFIX = "bench-svc-"

SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
FORM = "application/x-www-form-urlencoded"
MEDIA_SCORE = "application/vnd.ims.lis.v1.score+json"
MEDIA_LINEITEM = "application/vnd.ims.lis.v2.lineitem+json"
MEDIA_MEMBERSHIPS = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
KID = "bench-tool-key"
MAX_POOL = 20_000  # pre-signed assertions at most (~0.7 ms of signing each)


# --- the throw-away installation -----------------------------------------------------------------


@dataclass
class Setup(Installation):
    client_id: str
    deployment: int  # Deployment.pk, as in the service URLs
    score_class: str  # sourcedId of 5-2
    nrps_class: str  # sourcedId of the fresh 1,000-member class
    resource_link_id: str  # the placement at 5-2
    user_ids: list[str]  # eportal UUIDs of the bench students (all enrolled in both classes)
    key_pem: bytes  # the tool's private key

    @property
    def issuer(self) -> str:
        return self.env["MANABI_LTI_ISSUER"]

    @property
    def token_url(self) -> str:
        return self.issuer + "/lti/token"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "manabi.sqlite3"


def build_setup(data_dir: Path, port: int, students: int) -> Setup:
    env = django_env(data_dir, port)
    print(f"setting up {data_dir} (issuer http://{HOST}:{port}, {students} extra students)")
    run_step(["manage.py", "migrate", "-v", "0"], env, "migrate")
    run_step(["manage.py", "seed_demo"], env, "seed_demo")
    out = data_dir / "bench_services.json"
    run_step(
        ["-m", "bench.services", "--internal-populate", str(out), "--students", str(students)],
        env,
        "bench tool, students, enrollments",
    )
    return load_setup(out, data_dir, port, env)


def load_setup(out: Path, data_dir: Path, port: int, env: dict[str, str]) -> Setup:
    data = json.loads(out.read_text())
    return Setup(
        data_dir=data_dir,
        port=port,
        env=env,
        client_id=data["client_id"],
        deployment=data["deployment"],
        score_class=data["score_class"],
        nrps_class=data["nrps_class"],
        resource_link_id=data["resource_link_id"],
        user_ids=data["user_ids"],
        key_pem=Path(data["key_pem"]).read_bytes(),
    )


def populate(out: Path, count: int) -> None:
    """(Runs in a subprocess with the bench's environment.) The bench tool and its students."""
    import django

    django.setup()
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from roster.demo import FAMILY, GIVEN
    from roster.models import Enrollment, RosterRole, SchoolClass, User
    from tools_registry.models import Deployment, Placement
    from tools_registry.services import register_tool_from_spec

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_path = out.parent / "bench_tool_key.pem"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    spec = {  # as tests/lti_platform/service_helpers.py registers its tools: no JWKS URL
        "tool": {"slug": TOOL_SLUG, "name": "Bench services", "kind": "drill"},
        "registration": {
            "initiate_login_uri": f"https://{TOOL_SLUG}.example/login",
            "redirect_uris": [f"https://{TOOL_SLUG}.example/launch"],
            "target_link_uri": f"https://{TOOL_SLUG}.example/launch",
            "public_key_pem": public_pem,
            "allowed_services": ["ags", "nrps"],
            "privacy_level": "name",  # members carry names: the larger NRPS body
        },
        "deployments": [
            {
                "deployment_id": DISTRICT,
                "org": DISTRICT,
                "placements": [{"school": SCHOOL, "class": SCORE_CLASS, "title": "bench 5-2"}],
            }
        ],
    }
    unusable = make_password(None)
    with transaction.atomic():
        registration = register_tool_from_spec(spec)
        deployment = Deployment.objects.get(registration=registration, deployment_id=DISTRICT)
        score_class = SchoolClass.objects.get(school__identifier=SCHOOL, class_code=SCORE_CLASS)
        placement = Placement.objects.get(deployment=deployment, school_class=score_class)
        nrps_class = SchoolClass.objects.create(
            title="ベンチ 1000人",
            class_code=NRPS_CLASS,
            class_type=score_class.class_type,
            course=score_class.course,
            school=score_class.school,
            grades=score_class.grades,
            subjects=score_class.subjects,
        )
        nrps_class.terms.set(score_class.terms.all())
        batch = []
        for i in range(count):
            family, family_kana = FAMILY[i % len(FAMILY)]
            given, given_kana = GIVEN[(i // len(FAMILY)) % len(GIVEN)]
            batch.append(
                User(
                    username=f"{STUDENT_PREFIX}{i:05d}",
                    password=unusable,
                    last_name=family,
                    first_name=given,
                    kana_family_name=family_kana,
                    kana_given_name=given_kana,
                    role=RosterRole.STUDENT,
                    grade=score_class.grade,
                    org=score_class.school,
                    home_class=score_class,
                )
            )
        User.objects.bulk_create(batch, batch_size=500)
        users = list(User.objects.filter(username__startswith=STUDENT_PREFIX).order_by("username"))
        Enrollment.objects.bulk_create(
            [
                Enrollment(
                    user=user,
                    school_class=school_class,
                    school=school_class.school,
                    role=RosterRole.STUDENT,
                    shusseki_no=100 + i,
                )
                for school_class in (score_class, nrps_class)
                for i, user in enumerate(users)
            ],
            batch_size=500,
        )
    out.write_text(
        json.dumps(
            {
                "client_id": registration.client_id,
                "deployment": deployment.pk,
                "score_class": str(score_class.sourced_id),
                "nrps_class": str(nrps_class.sourced_id),
                "resource_link_id": str(placement.resource_link_id),
                "user_ids": [str(u.eportal_uuid) for u in users],
                "key_pem": str(key_path),
            }
        )
    )


# --- requests ------------------------------------------------------------------------------------


def sign_assertion(setup: Setup, key: Any, now: int) -> str:
    import jwt

    payload = {
        "iss": setup.client_id,
        "sub": setup.client_id,
        "aud": setup.token_url,
        "iat": now,
        "exp": now + 600,
        "jti": secrets.token_urlsafe(18),
    }
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": KID})


def token_form(assertion: str, scopes: list[str]) -> bytes:
    return urlencode(
        {
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion,
            "scope": " ".join(scopes),
        }
    ).encode()


def raw_request(
    port: int, method: str, path: str, headers: dict[str, str], body: bytes = b""
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body or method in ("POST", "PUT"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def http_call(
    port: int, method: str, path: str, headers: dict[str, str], body: bytes = b""
) -> tuple[int, dict[str, str], bytes]:
    """One request on its own connection (setup steps)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
    try:
        conn.request(method, path, body=body or None, headers=headers)
        response = conn.getresponse()
        data = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data
    finally:
        conn.close()


def obtain_token(setup: Setup, port: int, key: Any, scopes: list[str]) -> str:
    status, _, body = http_call(
        port,
        "POST",
        "/lti/token",
        {"Content-Type": FORM},
        token_form(sign_assertion(setup, key, int(time.time())), scopes),
    )
    if status != 200:
        sys.exit(f"token endpoint: HTTP {status} {body[:400]!r}")
    return str(json.loads(body)["access_token"])


def create_line_item(setup: Setup, port: int, token: str) -> str:
    """POST a line item through the real AGS endpoint; return its scores path."""
    path = f"/lti/ags/{setup.deployment}/{setup.score_class}/lineitems"
    body = json.dumps(
        {
            "label": "ベンチ小テスト",
            "scoreMaximum": 100,
            "resourceLinkId": setup.resource_link_id,
            "tag": "bench",
        }
    ).encode()
    status, _, reply = http_call(
        port,
        "POST",
        path,
        {
            "Authorization": f"Bearer {token}",
            "Content-Type": MEDIA_LINEITEM,
            "Accept": MEDIA_LINEITEM,
        },
        body,
    )
    if status != 201:
        sys.exit(f"line item POST: HTTP {status} {reply[:400]!r}")
    return urlsplit(json.loads(reply)["id"]).path + "/scores"


class ScoreFeed:
    """Valid score POSTs: round-robin over the students, timestamps 1 ms apart, increasing."""

    def __init__(self, port: int, path: str, token: str, user_ids: list[str]) -> None:
        self.user_ids = user_ids
        self.head = raw_request(
            port,
            "POST",
            path,
            {"Authorization": f"Bearer {token}", "Content-Type": MEDIA_SCORE},
        ).removesuffix(b"Content-Length: 0\r\n\r\n")
        self.base = datetime.datetime.now(datetime.UTC)
        self.sent = 0

    def body(self, i: int) -> bytes:
        stamp = self.base + datetime.timedelta(milliseconds=i)
        return json.dumps(
            {
                "userId": self.user_ids[i % len(self.user_ids)],
                "scoreGiven": i % 101,
                "scoreMaximum": 100,
                "activityProgress": "Completed",
                "gradingProgress": "FullyGraded",
                "timestamp": stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "comment": "よくできました",
            },
            ensure_ascii=False,
        ).encode()

    def __call__(self) -> bytes:
        body = self.body(self.sent)
        self.sent += 1
        return self.head + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body


class Pool:
    """Pre-built requests handed out once each; None when used up."""

    def __init__(self, requests: list[bytes]) -> None:
        self.requests = requests
        self.used = 0

    def __call__(self) -> bytes | None:
        if self.used >= len(self.requests):
            return None
        self.used += 1
        return self.requests[self.used - 1]


def presign(setup: Setup, port: int, key: Any, count: int) -> tuple[list[bytes], float]:
    """``count`` token requests with fresh assertions; return them and the ms per signature."""
    t0 = time.perf_counter()
    now = int(time.time())
    requests = [
        raw_request(
            port,
            "POST",
            "/lti/token",
            {"Content-Type": FORM},
            token_form(sign_assertion(setup, key, now), [SCOPE_SCORE, SCOPE_LINEITEM]),
        )
        for _ in range(count)
    ]
    return requests, 1000 * (time.perf_counter() - t0) / max(count, 1)


# --- load --------------------------------------------------------------------------------------


async def drive(
    port: int,
    *,
    concurrency: int,
    seconds: float,
    cap: int,
    make: Callable[[], bytes | None],
    ok: Callable[[int, bytes], bool],
) -> LoadResult:
    """``concurrency`` clients, one keep-alive connection each, until the deadline, ``cap``
    requests or ``make`` returning None. ``LoadResult.launches`` counts the good replies."""
    result = LoadResult()
    deadline = time.monotonic() + seconds
    issued = 0

    async def client() -> None:
        nonlocal issued
        conn = Connection(port)
        try:
            while time.monotonic() < deadline and issued < cap:
                raw = make()
                if raw is None:
                    break
                issued += 1
                t0 = time.perf_counter()
                try:
                    async with asyncio.timeout(REQUEST_TIMEOUT):
                        status, _, body = await conn.request(raw)
                except (OSError, asyncio.IncompleteReadError, HttpError, ValueError) as exc:
                    result.errors[type(exc).__name__] += 1
                    conn.close()
                    continue
                except TimeoutError:
                    result.errors["timeout"] += 1
                    conn.close()
                    continue
                if ok(status, body):
                    result.launches += 1
                    result.latencies_ms.append(1000 * (time.perf_counter() - t0))
                else:
                    result.errors[f"HTTP {status}"] += 1
                    result.sample_error = result.sample_error or body[:400]
        finally:
            conn.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    result.wall_s = time.perf_counter() - t0
    return result


def run_load(
    pid: int,
    port: int,
    *,
    concurrency: int,
    seconds: float,
    cap: int,
    make: Callable[[], bytes | None],
    ok: Callable[[int, bytes], bool],
) -> LoadResult:
    return with_cpu_accounting(
        pid,
        lambda: asyncio.run(
            drive(port, concurrency=concurrency, seconds=seconds, cap=cap, make=make, ok=ok)
        ),
    )


@dataclass
class Series:
    """Sequential requests: latencies, sizes, the server's CPU."""

    label: str
    latencies_ms: list[float] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    server_cpu_s: float = 0.0
    members: int = -1
    next_link: bool = False

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]

    @property
    def server_ms(self) -> float:
        n = len(self.latencies_ms)
        return 1000 * self.server_cpu_s / n if n else float("nan")


def nrps_series(pid: int, port: int, path: str, token: str, count: int, label: str) -> Series:
    series = Series(label)
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    headers = {"Authorization": f"Bearer {token}", "Accept": MEDIA_MEMBERSHIPS}
    try:
        for i in range(count + 3):  # 3 warm-up requests
            if i == 3:
                cpu0 = tree_cpu_seconds(pid)
            t0 = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            body = response.read()
            elapsed = 1000 * (time.perf_counter() - t0)
            if response.status != 200:
                series.statuses[response.status] += 1
                continue
            if i >= 3:
                series.latencies_ms.append(elapsed)
                series.sizes.append(len(body))
            if series.members < 0:
                series.members = len(json.loads(body)["members"])
                series.next_link = 'rel="next"' in (response.getheader("Link") or "")
        series.server_cpu_s = tree_cpu_seconds(pid) - cpu0
    finally:
        conn.close()
    return series


# --- bare references (server stopped) -----------------------------------------------------------


def median_ms(fn: Callable[[], object], count: int) -> float:
    samples = []
    for i in range(count + 20):
        t0 = time.perf_counter()
        fn()
        if i >= 20:
            samples.append(time.perf_counter() - t0)
    return 1000 * statistics.median(samples)


def bare_lookup_ms(db_path: Path, token: str, count: int) -> float:
    """sha256 of the token + the indexed SELECT of its row, sqlite3 module, no ORM."""
    con = sqlite3.connect(db_path)
    sql = (
        "SELECT id, registration_id, scopes, expires_at FROM lti_platform_accesstoken "
        "WHERE token_hash = ?"
    )
    try:
        plan = " ".join(str(r[-1]) for r in con.execute("EXPLAIN QUERY PLAN " + sql, ("x",)))
        if "INDEX" not in plan.upper():
            print(f"  (warning: the access token lookup does not use an index: {plan})")

        def lookup() -> None:
            digest = hashlib.sha256(token.encode()).hexdigest()
            row = con.execute(sql, (digest,)).fetchone()
            assert row is not None

        return median_ms(lookup, count)
    finally:
        con.close()


def bare_verify_ms(setup: Setup, key: Any, count: int) -> float:
    """RS256 verify of one client assertion with a loaded public key, PyJWT, claims checked."""
    import jwt

    assertion = sign_assertion(setup, key, int(time.time()))
    public = key.public_key()

    def verify() -> None:
        jwt.decode(
            assertion,
            public,
            algorithms=["RS256"],
            audience=setup.token_url,
            issuer=setup.client_id,
            options={"require": ["iss", "sub", "aud", "exp", "iat", "jti"]},
        )

    return median_ms(verify, count)


def stored_counts(db_path: Path) -> dict[str, int]:
    con = sqlite3.connect(db_path)
    try:
        return {
            table: int(con.execute(f"SELECT count(*) FROM lti_platform_{table}").fetchone()[0])  # noqa: S608
            for table in ("score", "scoreevent", "accesstoken")
        }
    finally:
        con.close()


# --- "what if" variants (monkeypatched in one process; no file changes) -------------------------

WHAT_IFS = {
    "no-listener": "− gradebook listener (ags.score_listeners emptied)",
    "auth-cache": "+ tokens.authenticate cached 30 s per token",
    "context-cache": "+ ags.service_context cached 30 s",
    "reads-first": "+ line item and membership read before BEGIN IMMEDIATE",
    "lean-write": "+ line item cached, member pk only, one conditional UPDATE",
    "writer-lock": "+ writers queue on a process + file lock (flock) before BEGIN",
}
# served by default when the target is missed: the CPU savings without, then with the lock
DEFAULT_WHAT_IFS = ["no-listener,auth-cache,context-cache,reads-first,lean-write", "all"]
_writer_lock: list[Callable[[], contextlib.AbstractContextManager[None]]] = []


def file_writer_lock(path: Path) -> Callable[[], contextlib.AbstractContextManager[None]]:
    """A lock across threads (threading.Lock) and worker processes (flock on ``path``):
    waiters sleep in the kernel and wake as soon as it is released, instead of polling in
    SQLite's busy handler (sleeps of 1, 2, 5, 10 … 100 ms)."""
    import fcntl
    import threading

    thread_lock = threading.Lock()
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)

    @contextlib.contextmanager
    def locked() -> Iterator[None]:
        with thread_lock:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    return locked


def _write_lock() -> contextlib.AbstractContextManager[None]:
    return _writer_lock[0]() if _writer_lock else contextlib.nullcontext()


def ttl_cached(fn: Any, key: Callable[..., Any], seconds: float = 30.0) -> Any:
    """fn, with its results kept per process for ``seconds`` (the fix a variant suggests)."""
    memo: dict[Any, tuple[float, Any]] = {}

    def cached(*args: Any, **kwargs: Any) -> Any:
        k = key(*args, **kwargs)
        hit = memo.get(k)
        if hit is None or hit[0] < time.monotonic():
            hit = memo[k] = (time.monotonic() + seconds, fn(*args, **kwargs))
        return hit[1]

    return cached


def record_score_reads_first(ctx: Any, item_pk: int, body: Any) -> Any:
    """lti_platform.ags.record_score with the line item and the membership read BEFORE
    ``BEGIN IMMEDIATE``: only the score row's read and the two writes hold SQLite's lock."""
    from django.db import transaction

    from lti_platform import ags
    from lti_platform.models import Score, ScoreEvent
    from lti_platform.protocol import ags as ags_protocol

    data = ags_protocol.parse_score(body)
    item = ags.get_line_item(ctx, item_pk)
    from roster.models import User

    user = User.objects.get(pk=ags._member_pk(ctx, data.user_id))
    fields = {
        "score_given": data.score_given,
        "score_maximum": data.score_maximum,
        "activity_progress": data.activity_progress,
        "grading_progress": data.grading_progress,
        "comment": data.comment,
        "timestamp": data.timestamp,
    }
    with _write_lock(), transaction.atomic():
        current = Score.objects.select_for_update().filter(line_item=item, user=user).first()
        if current is not None and data.timestamp < current.timestamp:
            raise ags.StaleScore("a score with a later timestamp is already stored")
        if current is None:
            current = Score.objects.create(line_item=item, user=user, **fields)
        else:
            for name, value in fields.items():
                setattr(current, name, value)
            current.save()
        ScoreEvent.objects.create(line_item=item, user=user, **fields)
        saved = current
        transaction.on_commit(lambda: [f(saved) for f in ags.score_listeners])
    return saved


_line_items: dict[tuple[int, int, int], tuple[float, Any]] = {}


def record_score_lean(ctx: Any, item_pk: int, body: Any) -> Any:
    """As record_score_reads_first, and: the line item from a per-process cache (10 s, as
    lti_platform.config_cache keeps launch line items), the member's pk only (no User row),
    and one ``UPDATE … WHERE timestamp <= new`` instead of SELECT … FOR UPDATE + a full-row
    save (0 rows: a first score, or a stale one)."""
    from django.db import transaction
    from django.utils import timezone

    from lti_platform import ags
    from lti_platform.models import Score, ScoreEvent
    from lti_platform.protocol import ags as ags_protocol
    from roster.models import EnrollmentStatus, User

    data = ags_protocol.parse_score(body)
    key = (ctx.deployment.pk, ctx.school_class.pk, item_pk)
    hit = _line_items.get(key)
    if hit is None or hit[0] < time.monotonic():
        hit = _line_items[key] = (time.monotonic() + 10, ags.get_line_item(ctx, item_pk))
    item = hit[1]
    user_key = ags._uuid_or_none(data.user_id)
    user_pk = (
        User.objects.filter(
            eportal_uuid=user_key,
            enrollments__school_class=ctx.school_class,
            enrollments__status=EnrollmentStatus.ACTIVE,
        )
        .values_list("pk", flat=True)
        .first()
        if user_key
        else None
    )
    if user_pk is None:
        raise ags_protocol.AgsError("userId is not a member of this context")
    fields = {
        "score_given": data.score_given,
        "score_maximum": data.score_maximum,
        "activity_progress": data.activity_progress,
        "grading_progress": data.grading_progress,
        "comment": data.comment,
        "timestamp": data.timestamp,
    }
    with _write_lock(), transaction.atomic():
        updated = Score.objects.filter(
            line_item=item, user_id=user_pk, timestamp__lte=data.timestamp
        ).update(updated_at=timezone.now(), **fields)
        if not updated:
            if Score.objects.filter(line_item=item, user_id=user_pk).exists():
                raise ags.StaleScore("a score with a later timestamp is already stored")
            Score.objects.create(line_item=item, user_id=user_pk, **fields)
        ScoreEvent.objects.create(line_item=item, user_id=user_pk, **fields)
        saved = Score(line_item=item, user_id=user_pk, **fields)  # what listeners read
        transaction.on_commit(lambda: [f(saved) for f in ags.score_listeners])
    return saved


def apply_what_if(name: str) -> None:
    """Apply one variant of WHAT_IFS to this process (Django must be set up)."""
    from lti_platform import ags, tokens

    if name == "no-listener":
        ags.score_listeners.clear()
    elif name == "auth-cache":
        tokens.authenticate = ttl_cached(tokens.authenticate, lambda a, any_of: (a, any_of))
    elif name == "context-cache":
        ags.service_context = ttl_cached(ags.service_context, lambda r, d, c: (r.pk, d, c))
    elif name == "reads-first":
        ags.record_score = record_score_reads_first
    elif name == "lean-write":
        ags.record_score = record_score_lean
    elif name == "writer-lock":  # used by the two variants above
        data_dir = Path(os.environ.get("MANABI_DATA_DIR", tempfile.gettempdir()))
        _writer_lock[:] = [file_writer_lock(data_dir / "bench-writer.lock")]
    else:
        raise ValueError(f"unknown what-if {name!r}")


def what_if_application(names: str) -> Any:
    """(gunicorn app factory, bench only) config.wsgi's application with the variants ``names``
    (comma-separated keys of WHAT_IFS) applied in each worker process."""
    from config.wsgi import application

    for name in what_if_names(names):
        apply_what_if(name)
    return application


def what_if_names(spec: str) -> list[str]:
    """``as-is``, ``all`` or comma-separated WHAT_IFS keys (without a ``@topology``)."""
    if spec == "as-is":
        return []
    names = list(WHAT_IFS) if spec == "all" else spec.split(",")
    unknown = [n for n in names if n not in WHAT_IFS]
    if unknown:
        raise ValueError(f"unknown what-if {', '.join(unknown)}; known: {', '.join(WHAT_IFS)}")
    if "writer-lock" in names and not {"reads-first", "lean-write"} & set(names):
        raise ValueError("writer-lock needs reads-first or lean-write")
    return sorted(names, key=list(WHAT_IFS).index)  # applied in this order


# --- in-process profile (no HTTP server) ---------------------------------------------------------


def profile(data: Path, count: int) -> None:
    """(Runs in a subprocess.) Drive the WSGI application in-process; where a score POST's CPU
    goes. Figures are CPU time of this one process (time.process_time) unless "wall"; the
    "what if" variants monkeypatch this process only and change no file."""
    import django

    django.setup()
    from cryptography.hazmat.primitives import serialization
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.serializers.json import DjangoJSONEncoder
    from django.db import connections, transaction
    from django.test.utils import CaptureQueriesContext

    from lti_platform import ags, tokens
    from lti_platform.models import AccessToken, Score, ScoreEvent
    from lti_platform.protocol import ags as ags_protocol
    from lti_platform.protocol import oauth
    from tools_registry import tool_keys
    from tools_registry.models import Registration

    connection = connections["default"]
    setup = load_setup(data, data.parent, 0, dict(os.environ))
    port = setup.issuer.rsplit(":", 1)[1]
    key = serialization.load_pem_private_key(setup.key_pem, password=None)
    app = WSGIHandler()
    print(
        f"in-process profile: MANABI_CONN_MAX_AGE={connection.settings_dict['CONN_MAX_AGE']} "
        f"(as config/gunicorn.conf.py sets it), {count} requests per figure"
    )

    def call(
        method: str, path: str, body: bytes = b"", content_type: str = "", auth: str = ""
    ) -> tuple[int, bytes]:
        raw_path, _, query = path.partition("?")
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": raw_path,
            "QUERY_STRING": query,
            "SERVER_NAME": HOST,
            "SERVER_PORT": port,
            "HTTP_HOST": f"{HOST}:{port}",
            "CONTENT_TYPE": content_type,
            "CONTENT_LENGTH": str(len(body)),
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            "wsgi.version": (1, 0),
        }
        if auth:
            environ["HTTP_AUTHORIZATION"] = auth
        seen: dict[str, str] = {}

        def start_response(status: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
            seen["status"] = status

        response = app(environ, start_response)
        try:
            reply = b"".join(response)
        finally:
            response.close()  # what the WSGI server does: fires request_finished
        return int(seen["status"][:3]), reply

    def token_request(scopes: list[str]) -> bytes:
        return token_form(sign_assertion(setup, key, int(time.time())), scopes)

    status, reply = call("POST", "/lti/token", token_request([SCOPE_SCORE, SCOPE_LINEITEM]), FORM)
    assert status == 200, reply
    token = json.loads(reply)["access_token"]
    auth = f"Bearer {token}"
    lineitems = f"/lti/ags/{setup.deployment}/{setup.score_class}/lineitems"
    status, reply = call(
        "POST",
        lineitems,
        json.dumps({"label": "profile", "scoreMaximum": 10}).encode(),
        MEDIA_LINEITEM,
        auth,
    )
    assert status == 201, reply
    item_pk = int(json.loads(reply)["id"].rsplit("/", 1)[1])
    score_path = f"{lineitems}/{item_pk}/scores"
    # 50 students: after one pass every POST updates a stored score, as in the served window
    feed = ScoreFeed(int(port), score_path, token, setup.user_ids[:50])
    feed.base += datetime.timedelta(days=1)  # later than anything the served run stored

    def post_score() -> None:
        status, reply = call("POST", score_path, feed.body(feed.sent), MEDIA_SCORE, auth)
        feed.sent += 1
        assert status == 204, (status, reply[:300])

    def per_call_ms(fn: Callable[[], object], n: int = count) -> float:
        for _ in range(min(20, n)):
            fn()
        t0 = time.process_time()
        for _ in range(n):
            fn()
        return 1000 * (time.process_time() - t0) / n

    # Write-lock hold: wall time from BEGIN IMMEDIATE to the end of COMMIT (single thread, no
    # contention: the shortest the lock can be held). Other writers wait this long.
    begun: list[float] = []
    holds: list[float] = []

    def note_begin(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if sql.startswith("BEGIN"):
            begun.append(time.perf_counter())
        return execute(sql, params, many, context)

    original_commit = getattr(connection, "_commit")  # noqa: B009  (private; no stub)

    def timed_commit() -> Any:
        try:
            return original_commit()
        finally:
            if begun:
                holds.append(time.perf_counter() - begun.pop())

    setattr(connection, "_commit", timed_commit)  # noqa: B010

    def held(fn: Callable[[], object], n: int) -> tuple[float, int]:
        """Median write-lock hold (ms) of fn's transactions, transactions per call."""
        begun.clear()
        holds.clear()
        with connection.execute_wrapper(note_begin):
            for _ in range(n):
                fn()
        if not holds:
            return float("nan"), 0
        return 1000 * statistics.median(holds), round(len(holds) / n)

    for _ in range(50):
        post_score()
    with CaptureQueriesContext(connection) as captured:
        post_score()
    statements = [q["sql"] for q in captured.captured_queries]
    print(f"\nSQL of one score POST (an update of a stored score): {len(statements)} statements")
    for sql in statements:
        print(f"  {sql[:150]}")

    cpu_as_is = per_call_ms(post_score)
    hold_as_is, tx = held(post_score, min(count, 200))
    print(
        f"\nCPU per score POST, in-process, mean of {count}: {cpu_as_is:.2f} ms; write lock "
        f"held {hold_as_is:.2f} ms (median wall, {tx} transaction per POST) → at most "
        f"~{1000 / hold_as_is:.0f} score POSTs/s however many cores (SQLite has one writer)"
    )

    # Components, each on its own.
    registration = Registration.objects.get(client_id=setup.client_id)
    ctx = ags.service_context(registration, setup.deployment, setup.score_class)
    item = ags.get_line_item(ctx, item_pk)
    user_id = setup.user_ids[0]
    from roster.models import User

    user = User.objects.get(pk=ags._member_pk(ctx, user_id))
    body = feed.body(0)
    score = Score.objects.filter(line_item=item, user=user).first()
    assert score is not None
    raw_lookup = (
        "SELECT id, registration_id, scopes, expires_at FROM lti_platform_accesstoken "
        "WHERE token_hash = %s"
    )

    def bare_lookup() -> None:
        with connection.cursor() as cursor:
            cursor.execute(raw_lookup, [hashlib.sha256(token.encode()).hexdigest()])
            cursor.fetchone()

    def empty_transaction() -> None:
        with transaction.atomic():
            pass

    def writes_only() -> None:
        with transaction.atomic():
            current = Score.objects.select_for_update().filter(line_item=item, user=user).first()
            assert current is not None
            current.save()
            ScoreEvent.objects.create(
                line_item=item,
                user=user,
                score_given=1,
                score_maximum=10,
                activity_progress="Completed",
                grading_progress="FullyGraded",
                comment="",
                timestamp=current.timestamp,
            )

    def replay_sql() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            for sql in statements:
                if not sql.startswith(("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE")):
                    cursor.execute(sql)

    listeners = list(ags.score_listeners)

    def publish_once(saved: Score) -> None:
        """portal.gradebook.publish_score with both group_sends in ONE async_to_sync."""
        from asgiref.sync import async_to_sync
        from channels.layers import get_channel_layer

        from portal import gradebook

        layer = get_channel_layer()
        assert layer is not None
        event = gradebook.score_event(saved)

        async def both() -> None:
            await layer.group_send(gradebook.class_group(saved.line_item.school_class_id), event)
            await layer.group_send(gradebook.user_group(saved.user_id), event)

        async_to_sync(both)()

    floor = "GET /lti/jwks through every middleware, no DB"
    context_label = "ags.service_context (deployment + class, 2 queries)"
    line_item_label = "ags.get_line_item"
    member_label = "ags._member (user ⋈ enrollment)"
    writes_label = "select_for_update + Score.save + ScoreEvent INSERT in one transaction"
    replay_label = f"the POST's {len(statements)} statements replayed as raw SQL, one tx"
    authenticate = "tokens.authenticate (sha256 + AccessToken ⋈ Registration via the ORM)"
    bare = "sha256 + the same lookup as raw SQL (no ORM)"
    listener_label = "gradebook listener (portal.gradebook.publish_score, after COMMIT)"
    components: list[tuple[str, Callable[[], object]]] = [
        (floor, lambda: call("GET", "/lti/jwks")),
        (authenticate, lambda: tokens.authenticate(auth, any_of=(SCOPE_SCORE,))),
        (bare, bare_lookup),
        (
            context_label,
            lambda: ags.service_context(registration, setup.deployment, setup.score_class),
        ),
        (line_item_label, lambda: ags.get_line_item(ctx, item_pk)),
        (member_label, lambda: ags._member_pk(ctx, user_id)),
        (
            "json.loads + protocol.ags.parse_score",
            lambda: ags_protocol.parse_score(json.loads(body)),
        ),
        ("empty transaction.atomic() (BEGIN IMMEDIATE + COMMIT)", empty_transaction),
        (writes_label, writes_only),
        (replay_label, replay_sql),
        *[
            (
                listener_label if fn.__name__ == "publish_score" else fn.__qualname__,
                lambda f=fn: f(score),
            )
            for fn in listeners
        ],
        ("  the same with both group_sends in one async_to_sync", lambda: publish_once(score)),
    ]
    print("\ncomponent costs, CPU ms per call (persistent connection):")
    costs: dict[str, float] = {}
    for label, fn in components:
        try:  # the application changes; a component that no longer fits is reported, not fatal
            costs[label] = per_call_ms(fn)
        except Exception as exc:
            print(f"     n/a  {label}: {type(exc).__name__}: {exc}")
            continue
        print(f"  {costs[label]:6.3f}  {label}")

    cores = os.cpu_count() or 1

    def what_if(ms: float, hold: float, label: str) -> None:
        cap = min(1000 * cores / ms, 1000 / hold if hold == hold else math.inf)
        print(
            f"  {ms:6.2f}  {hold:5.2f}  {label:58s} (≤ ~{cap:.0f}/s on {cores} cores, in-process)"
        )

    print(
        "\nwhat if (cumulative; monkeypatched in this process only): CPU ms per score POST, "
        "write-lock hold ms (median wall):"
    )
    what_if(cpu_as_is, hold_as_is, "as is")
    saved_tokens = {"authenticate": tokens.authenticate}
    saved_ags = {n: getattr(ags, n) for n in ("service_context", "record_score")}
    try:
        for name, label in WHAT_IFS.items():
            apply_what_if(name)
            what_if(per_call_ms(post_score), held(post_score, min(count, 200))[0], label)
    finally:
        _writer_lock.clear()
        ags.score_listeners[:] = listeners
        for attr, value in saved_tokens.items():
            setattr(tokens, attr, value)
        for attr, value in saved_ags.items():
            setattr(ags, attr, value)

    split = [
        (floor, "framework floor (a request through every middleware)"),
        (authenticate, "Bearer token check, ORM"),
        (context_label, "ags.service_context, ORM"),
        (line_item_label, "ags.get_line_item, ORM (inside the write lock)"),
        (member_label, "ags._member, ORM (inside the write lock)"),
        (writes_label, "Score select_for_update + save + ScoreEvent INSERT, ORM"),
        (listener_label, "gradebook listener after COMMIT"),
    ]
    print(f"\nsplit of the {cpu_as_is:.2f} ms of a score POST (components measured alone):")
    for component, what in split:
        print(f"  {costs.get(component, float('nan')):6.2f}  {what}")
    rest = cpu_as_is - sum(costs.get(component, 0.0) for component, _ in split)
    print(f"  {rest:6.2f}  the rest: view, decorator, JSON body, response, GC")
    print(
        f"  (SQLite alone: the POST's statements as raw SQL {costs.get(replay_label, 0):.2f} ms; "
        f"the token lookup as raw SQL {costs.get(bare, 0):.3f} ms)"
    )

    # NRPS: one page of the 1,000-member class, in parts.
    from django.db.models import QuerySet

    from lti_platform import nrps
    from roster.models import Enrollment, EnrollmentStatus

    nrps_ctx = ags.service_context(registration, setup.deployment, setup.nrps_class)
    page, _ = nrps.memberships(nrps_ctx, role=None, rlid=None, since=None, offset=0, limit=1000)
    nrps_reply = call("POST", "/lti/token", token_request([SCOPE_NRPS]), FORM)[1]
    nrps_auth = "Bearer " + json.loads(nrps_reply)["access_token"]
    nrps_path = f"/lti/nrps/{setup.deployment}/{setup.nrps_class}/memberships?limit=1000"

    def one_page() -> object:
        return nrps.memberships(nrps_ctx, role=None, rlid=None, since=None, offset=0, limit=1000)

    def enrollments() -> QuerySet[Enrollment]:
        return Enrollment.objects.filter(
            school_class=nrps_ctx.school_class, status=EnrollmentStatus.ACTIVE
        ).order_by("pk")

    columns = [
        *("role", "status", "user__eportal_uuid", "user__sourced_id", "user__is_active"),
        *("user__first_name", "user__last_name", "user__email"),
    ]
    print("\nNRPS, one page of 1,000 members, CPU ms per call (mean of 20):")
    nrps_parts: list[tuple[str, Callable[[], object]]] = [
        ("full GET through the WSGI app", lambda: call("GET", nrps_path, auth=nrps_auth)),
        ("nrps.memberships (ORM: 1,000 enrollments ⋈ users, member dicts)", one_page),
        (
            "  its query alone: 1,001 Enrollment + User model objects (select_related)",
            lambda: list(enrollments().select_related("user")[:1001]),
        ),
        (
            f"  the same rows, only the {len(columns)} columns used (values_list)",
            lambda: list(enrollments().values_list(*columns)[:1001]),
        ),
        (
            "json.dumps of the body (ensure_ascii=False, as service_views._json)",
            lambda: json.dumps(page, ensure_ascii=False, cls=DjangoJSONEncoder),
        ),
    ]
    for label, fn in nrps_parts:
        print(f"  {per_call_ms(fn, 20):7.2f}  {label}")

    # Token endpoint: a full request and its parts.
    pool = [token_request([SCOPE_SCORE, SCOPE_LINEITEM]) for _ in range(count + 20)]
    it = iter(pool)

    def post_token() -> None:
        status, reply = call("POST", "/lti/token", next(it), FORM)
        assert status == 200, reply[:300]

    token_cpu = per_call_ms(post_token)
    token_hold, token_tx = held(
        lambda: call("POST", "/lti/token", token_request([SCOPE_SCORE]), FORM), 50
    )
    print(
        f"\nCPU per token request, in-process, mean of {count}: {token_cpu:.2f} ms "
        f"(assertions signed beforehand); {token_tx} write transactions per request, lock held "
        f"{token_hold:.2f} ms median each (AccessToken.create runs in autocommit: not counted)"
    )
    assertion = sign_assertion(setup, key, int(time.time()))
    verify_key = tool_keys.tool_public_key(registration, KID)
    token_parts: list[tuple[str, Callable[[], object]]] = [
        (
            "Registration lookup by client_id (ORM)",
            lambda: Registration.objects.filter(client_id=setup.client_id, is_active=True).first(),
        ),
        ("oauth.peek_assertion (2 unverified decodes)", lambda: oauth.peek_assertion(assertion)),
        (
            "tool_keys.tool_public_key (parses the PEM every request)",
            lambda: tool_keys.tool_public_key(registration, KID),
        ),
        (
            "oauth.verify_assertion (RS256 verify + claims)",
            lambda: oauth.verify_assertion(
                assertion,
                key=verify_key,
                client_id=setup.client_id,
                token_url=setup.token_url,
                now=int(time.time()),
            ),
        ),
        (
            "registration.deployments active .exists()",
            lambda: registration.deployments.filter(is_active=True).exists(),
        ),
        (
            "services.consume_once (BEGIN IMMEDIATE, INSERT, COMMIT)",
            lambda: vars(tokens.services)["consume_once"](
                "bench:" + secrets.token_hex(8),
                expires_at=datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=5),
            ),
        ),
        (
            "AccessToken.objects.create (autocommit INSERT)",
            lambda: AccessToken.objects.create(
                token_hash=secrets.token_hex(32),
                registration=registration,
                scopes=[SCOPE_SCORE],
                expires_at=datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1),
            ),
        ),
    ]
    print("token endpoint components, CPU ms per call:")
    for label, fn in token_parts:
        try:
            print(f"  {per_call_ms(fn):6.3f}  {label}")
        except Exception as exc:
            print(f"     n/a  {label}: {type(exc).__name__}: {exc}")

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(count):
        post_score()
    profiler.disable()
    for sort, restriction, what in (
        ("cumulative", r"(lti_platform|roster|tools_registry|portal|asgiref|channels)/", "ours+"),
        ("tottime", r".", "everything"),
    ):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(sort).print_stats(restriction, 22)
        print(
            f"\ncProfile of {count} score POSTs as is, {what} by {sort} (cProfile inflates Python):"
        )
        lines = out.getvalue().splitlines()
        start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
        print("\n".join(line for line in lines[start:] if line.strip()))
    connection.close()


# --- reporting ----------------------------------------------------------------------------------


TABLE_HEAD = (
    "| requests | per s | p50 ms | p90 ms | p99 ms | max ms | errors | server cores busy "
    "| server CPU ms/request | client CPU ms/request | others' CPU |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def fmt_row(name: str, r: LoadResult) -> str:
    return (
        f"| {name} | {r.rate:.0f} | {r.percentile(0.5):.1f} | {r.percentile(0.9):.1f} "
        f"| {r.percentile(0.99):.1f} | {max(r.latencies_ms, default=float('nan')):.1f} "
        f"| {sum(r.errors.values())} | {r.server_cores:.2f} | {r.server_ms_per_launch:.2f} "
        f"| {1000 * r.client_cpu_s / max(r.launches, 1):.2f} | {100 * r.others_share:.0f} % |"
    )


def print_result(what: str, r: LoadResult) -> None:
    errors = sum(r.errors.values())
    print(f"  {r.launches} {what} in {r.wall_s:.2f} s → {r.rate:.1f}/s; errors {errors}")
    if r.errors:
        print(f"  errors: {dict(r.errors)}; first failed response starts {r.sample_error!r}")
    print(
        f"  latency ms: p50 {r.percentile(0.5):.1f}  p90 {r.percentile(0.9):.1f}  "
        f"p99 {r.percentile(0.99):.1f}  max {max(r.latencies_ms, default=float('nan')):.1f}"
    )
    print(
        f"  server CPU {r.server_cpu_s:.2f} s ({r.server_cores:.2f} cores) → "
        f"{r.server_ms_per_launch:.2f} ms/request; client CPU "
        f"{1000 * r.client_cpu_s / max(r.launches, 1):.2f} ms/request; other processes "
        f"{100 * r.others_share:.0f} % of {os.cpu_count()} cores",
        flush=True,
    )


def run_profile(setup: Setup, count: int) -> None:
    env = {**setup.env, "MANABI_CONN_MAX_AGE": setup.env.get("MANABI_CONN_MAX_AGE", "600")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.services",
            "--internal-profile",
            str(setup.data_dir / "bench_services.json"),
            "--profile",
            str(count),
        ],
        cwd=ROOT,
        env=env,
        timeout=900,
    )
    if done.returncode:
        sys.exit(done.returncode)


# --- main ---------------------------------------------------------------------------------------


@dataclass
class Run:
    score_path: str
    score_token: str
    scores: LoadResult
    good: bool  # no errors anywhere
    met: bool  # the score target


def quiet(args: argparse.Namespace) -> None:
    waited = wait_for_quiet(args.quiet_wait)
    if waited > 1.5:
        print(f"  (waited {waited:.0f} s for a quieter machine)")


def load_window(
    server: Server,
    args: argparse.Namespace,
    seconds: float,
    make: Callable[[], bytes | None],
    expect: int,
) -> LoadResult:
    return run_load(
        server.proc.pid,
        server.port,
        concurrency=args.concurrency,
        seconds=seconds,
        cap=args.max_requests,
        make=make,
        ok=lambda status, _body: status == expect,
    )


def score_windows(
    setup: Setup, server: Server, path: str, token: str, args: argparse.Namespace, seconds: float
) -> tuple[LoadResult, LoadResult, ScoreFeed]:
    """A warm-up, then the measured window of score POSTs; return both and the feed."""
    feed = ScoreFeed(server.port, path, token, setup.user_ids)
    warm = load_window(server, args, args.warmup, feed, 204)
    print(
        f"\nscore warm-up: {warm.launches} POSTs ({warm.rate:.0f}/s), errors "
        f"{dict(warm.errors) or 0}"
    )
    quiet(args)
    before = feed.sent
    result = load_window(server, args, seconds, feed, 204)
    print(
        f"== score POSTs, {seconds:.0f} s, {args.concurrency} clients "
        f"(students {len(setup.user_ids)}, POSTs {before}…{feed.sent - 1} of this server)"
    )
    print_result("score POSTs", result)
    return warm, result, feed


def target_met(r: LoadResult) -> bool:
    return (
        r.launches > 0
        and r.rate >= TARGET_RATE
        and r.percentile(0.99) < TARGET_P99_MS
        and not r.errors
    )


def measure_all(setup: Setup, args: argparse.Namespace) -> Run:
    """Run every measurement against one server; print the report."""
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(setup.key_pem, password=None)
    topology = TOPOLOGIES[args.topology]
    with running_server(setup, topology) as server:
        pid, port = server.proc.pid, server.port
        print(f"started {topology.name} ({topology.label}) on port {port}", flush=True)
        score_token = obtain_token(setup, port, key, [SCOPE_SCORE, SCOPE_LINEITEM])
        nrps_token = obtain_token(setup, port, key, [SCOPE_NRPS])
        score_path = create_line_item(setup, port, score_token)
        print(f"token (score lineitem) obtained; line item created: POST {score_path}")

        def load(seconds: float, make: Callable[[], bytes | None], expect: int) -> LoadResult:
            return load_window(server, args, seconds, make, expect)

        # 1. the floor: the cheapest request the server answers
        jwks = raw_request(port, "GET", "/lti/jwks", {})
        load(1.0, lambda: jwks, 200)
        quiet(args)
        floor = load(args.floor_seconds, lambda: jwks, 200)
        print(f"\n== GET /lti/jwks, {args.floor_seconds:.0f} s (floor: middleware, no DB)")
        print_result("requests", floor)

        # 2. score POSTs
        score_warm, scores, _ = score_windows(
            setup, server, score_path, score_token, args, args.seconds
        )

        # 3. token requests, each with a pre-signed fresh assertion
        warm_pool, sign_ms = presign(setup, port, key, args.token_warmup_pool)
        warm = load(args.warmup, Pool(warm_pool), 200)
        size = min(MAX_POOL, max(500, math.ceil(warm.rate * args.token_seconds * 1.3) + 200))
        pool, sign_ms = presign(setup, port, key, size)
        print(
            f"\ntoken warm-up: {warm.launches} tokens ({warm.rate:.0f}/s), errors "
            f"{dict(warm.errors) or 0}; pre-signed {size} assertions in this process before "
            f"the window ({sign_ms:.3f} ms each)"
        )
        quiet(args)
        token_pool = Pool(pool)
        token_load = load(args.token_seconds, token_pool, 200)
        ran_out = token_pool.used >= len(pool)
        print(
            f"\n== token requests, {args.token_seconds:.0f} s"
            + (" (the pool ran out: the window ended early)" if ran_out else "")
        )
        print_result("tokens", token_load)

        # 4. NRPS, sequential
        nrps_path = f"/lti/nrps/{setup.deployment}/{setup.nrps_class}/memberships"
        nrps = [
            nrps_series(
                pid, port, nrps_path + "?limit=1000", nrps_token, args.nrps_requests, "limit=1000"
            ),
            nrps_series(pid, port, nrps_path, nrps_token, args.nrps_requests, "default (100)"),
        ]
    counts = stored_counts(setup.db_path)

    # bare references, server stopped
    lookup_ms = bare_lookup_ms(setup.db_path, score_token, args.bare_samples)
    verify_ms = bare_verify_ms(setup, key, args.bare_samples)

    print(
        f"\nstored after the run: {counts['scoreevent']} score events (204 replies: "
        f"{score_warm.launches + scores.launches}), {counts['score']} current scores, "
        f"{counts['accesstoken']} access tokens"
    )
    print(
        f"bare references (server stopped, median of {args.bare_samples}): sha256 + indexed "
        f"SQLite lookup of the access token (sqlite3 module) {lookup_ms:.3f} ms; RS256 verify "
        f"of an assertion with a loaded key (PyJWT, claims checked) {verify_ms:.3f} ms; client "
        f"RS256 sign {sign_ms:.3f} ms"
    )
    print(f"\n{args.concurrency} concurrent clients, keep-alive, topology {topology.name}\n")
    print(TABLE_HEAD)
    print(fmt_row("GET /lti/jwks (floor)", floor))
    print(fmt_row("AGS score POST", scores))
    print(fmt_row("token POST", token_load))
    per_score = scores.server_ms_per_launch
    per_token = token_load.server_ms_per_launch
    per_floor = floor.server_ms_per_launch
    print(
        f"\nratios (server CPU, same run): score POST = {per_score / per_floor:.1f}× "
        f"the jwks floor, {per_score / lookup_ms:.0f}× a bare sha256 + indexed lookup; token = "
        f"{per_token / per_floor:.1f}× the floor, {per_token / verify_ms:.0f}× a "
        f"bare RS256 verify; a score POST costs {per_score / per_token:.2f} tokens"
    )
    print(
        "\nNRPS, 1,000-member class, sequential on one keep-alive connection:\n\n"
        "| request | n | median ms | p90 ms | max ms | body bytes | members | next link "
        "| server CPU ms/request | errors |\n|---|---:|---:|---:|---:|---:|---:|---|---:|---:|"
    )
    for s in nrps:
        print(
            f"| {s.label} | {len(s.latencies_ms)} | {s.pct(0.5):.1f} | {s.pct(0.9):.1f} "
            f"| {max(s.latencies_ms, default=float('nan')):.1f} "
            f"| {statistics.median(s.sizes) if s.sizes else 0:.0f} | {s.members} "
            f"| {'yes' if s.next_link else 'no'} | {s.server_ms:.1f} | {sum(s.statuses.values())} |"
        )
    met = target_met(scores)
    cores = os.cpu_count() or 1
    budget = 1000 * cores / TARGET_RATE
    print(
        f"\ntarget: ≥ {TARGET_RATE} score POSTs/s with p99 < {TARGET_P99_MS:.0f} ms on 2 cores "
        f"(this machine: {cores}): {'met' if met else 'MISSED'} — measured {scores.rate:.0f}/s, "
        f"p99 {scores.percentile(0.99):.1f} ms, errors {sum(scores.errors.values())}"
    )
    client_ms = 1000 * scores.client_cpu_s / max(scores.launches, 1)
    print(
        f"  CPU budget at {TARGET_RATE}/s on {cores} cores: {budget:.1f} ms per POST for server "
        f"and client together; measured {per_score:.2f} ms server + {client_ms:.2f} ms client; "
        f"server cores busy {scores.server_cores:.2f} of {cores}"
    )
    good = not (scores.errors or token_load.errors or any(s.statuses for s in nrps))
    return Run(score_path, score_token, scores, good, met)


def what_if_label(names: list[str]) -> str:
    if not names:
        return "as is"
    return f"all {len(names)}" if names == list(WHAT_IFS) else "+".join(names)


def served_what_ifs(
    setup: Setup, run: Run, args: argparse.Namespace
) -> list[tuple[str, LoadResult]]:
    """Score POST windows against servers whose workers run the bench's "what if" variants
    (``bench.services:what_if_application``), with the first run's token and line item."""
    rows: list[tuple[str, LoadResult]] = [
        (f"as is ({args.topology}, the window above)", run.scores)
    ]
    for i, spec in enumerate(args.what_if):
        names_spec, _, topology_name = spec.partition("@")
        names = what_if_names(names_spec)
        topology = TOPOLOGIES[topology_name or args.topology]
        app = f"bench.services:what_if_application({','.join(names)!r})" if names else "config.wsgi"
        label = f"{what_if_label(names)} ({topology.name})"
        print(f"\n== served what-if: {label}", flush=True)
        with running_server(setup, topology, app=app, log_name=f"what-if-{i}") as server:
            _, result, _ = score_windows(
                setup, server, run.score_path, run.score_token, args, args.what_if_seconds
            )
        rows.append((label, result))
    print(
        f"\nscore POSTs, served what-ifs ({args.concurrency} clients; variants "
        f"{args.what_if_seconds:.0f} s each; what the names do: "
        + "; ".join(f"{k}: {v}" for k, v in WHAT_IFS.items())
        + ")\n"
    )
    print(TABLE_HEAD)
    for label, result in rows:
        print(fmt_row(label, result))
    return rows


def print_summary(rows: list[tuple[str, LoadResult]]) -> None:
    print(
        f"\n== summary: target ≥ {TARGET_RATE} score POSTs/s with p99 < {TARGET_P99_MS:.0f} ms "
        f"on 2 cores (this machine: {os.cpu_count()})"
    )
    for label, r in rows:
        print(
            f"  {'met   ' if target_met(r) else 'MISSED'}  {r.rate:5.0f}/s  p99 "
            f"{r.percentile(0.99):6.1f} ms  {r.server_ms_per_launch:5.2f} ms server CPU/POST  "
            f"errors {sum(r.errors.values())}  {label}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--topology", default="default", choices=sorted(TOPOLOGIES))
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20.0, help="score POST window")
    parser.add_argument("--token-seconds", type=float, default=10.0, help="token window")
    parser.add_argument("--floor-seconds", type=float, default=5.0, help="GET /lti/jwks window")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds before each window")
    parser.add_argument("--token-warmup-pool", type=int, default=600, help=argparse.SUPPRESS)
    parser.add_argument("--max-requests", type=int, default=1_000_000, help="cap per window")
    parser.add_argument("--nrps-requests", type=int, default=50)
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--bare-samples", type=int, default=2000)
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=5.0,
        help="wait up to this many seconds for other processes to use < 15%% CPU before a window",
    )
    parser.add_argument(
        "--what-if",
        action="append",
        metavar="NAMES[@TOPOLOGY]",
        help="when the target is missed, serve these variants and measure score POSTs again "
        f"(repeatable; NAMES: as-is, all or comma-separated {', '.join(WHAT_IFS)}; "
        f"default: {' and '.join(DEFAULT_WHAT_IFS)}; 'none': skip)",
    )
    parser.add_argument("--what-if-seconds", type=float, default=8.0)
    parser.add_argument("--profile", type=int, default=300, metavar="N", help="requests per figure")
    parser.add_argument("--no-profile", action="store_true", help="skip it even if missed")
    parser.add_argument("--profile-only", action="store_true", help="set up, profile, no load")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    parser.add_argument("--internal-populate", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--internal-profile", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.internal_populate:
        populate(args.internal_populate, args.students)
        return
    if args.internal_profile:
        profile(args.internal_profile, max(20, min(args.profile, 5000)))
        return
    if TOPOLOGIES[args.topology].server == "uvicorn" and not uvicorn_available():
        parser.error("uvicorn is not installed")
    if not 1 <= args.concurrency <= 1024:
        parser.error("--concurrency must be 1..1024")
    for name in ("seconds", "token_seconds", "floor_seconds", "warmup", "what_if_seconds"):
        if not 0 < getattr(args, name) <= 600:
            parser.error(f"--{name.replace('_', '-')} must be 0..600")
    args.what_if = args.what_if or DEFAULT_WHAT_IFS
    for spec in args.what_if if args.what_if != ["none"] else []:
        names_spec, _, topology_name = spec.partition("@")
        try:
            names = what_if_names(names_spec)
        except ValueError as exc:
            parser.error(str(exc))
        topology = TOPOLOGIES.get(topology_name or args.topology)
        if topology is None or (names and topology.server != "gunicorn"):
            parser.error(f"--what-if {spec}: a gunicorn topology of {', '.join(TOPOLOGIES)}")
    if not 1 <= args.nrps_requests <= 1000 or not 10 <= args.students <= 20_000:
        parser.error("--nrps-requests must be 1..1000 and --students 10..20000")

    print(
        f"machine: nproc {os.cpu_count()}, Python {sys.version.split()[0]}, {sys.platform}; "
        f"code {git_describe()}; MANABI_CONN_MAX_AGE "
        f"{os.environ.get('MANABI_CONN_MAX_AGE', 'unset (gunicorn.conf.py default)')}"
    )
    data_dir = Path(tempfile.mkdtemp(prefix="manabi-bench-services-"))
    good = True
    try:
        setup = build_setup(data_dir, args.port or free_port(), args.students)
        met = False
        rows: list[tuple[str, LoadResult]] = []
        if not args.profile_only:
            run = measure_all(setup, args)
            good, met = run.good, run.met
            rows = [(f"as is ({args.topology})", run.scores)]
            if not met and args.what_if != ["none"]:
                rows = served_what_ifs(setup, run, args)
        if args.profile_only or (not met and not args.no_profile):
            print("\n== in-process profile of the score POST path\n", flush=True)
            run_profile(setup, args.profile)
        if rows:
            print_summary(rows)
    finally:
        if args.keep or not good:
            print(f"data and server logs kept in {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
