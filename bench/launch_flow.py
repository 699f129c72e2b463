"""Load benchmark of the full LTI 1.3 launch as a signed-in student's browser makes it.

One launch is two requests to our platform server (the tool side is played by the bench):

1. ``GET /lti/launch/<resource_link_id>/<class_sourced_id>`` → 302 to the tool's OIDC
   initiate-login URL (iss, login_hint, target_link_uri, client_id, lti_deployment_id,
   lti_message_hint);
2. ``GET /lti/authorize?scope=openid&response_type=id_token&response_mode=form_post&prompt=none
   &client_id=…&redirect_uri=…&login_hint=…&lti_message_hint=…&nonce=…&state=…`` → 200 and an
   auto-submitting form carrying ``id_token`` and ``state``.

The bench builds a throw-away installation (temporary MANABI_DATA_DIR, migrate, seed_demo,
2,000 extra students with enrollments and a signed-in session each), starts the server
(gunicorn with config/gunicorn.conf.py, or uvicorn) as a subprocess, warms it up and drives it
with 32 asyncio clients speaking raw HTTP/1.1 (cheap in CPU: they share the machine's cores).
Each launch is a different student on a new connection, kept alive from step 1 to step 2 when
the server allows it, as a browser does (``--connections persistent`` reuses them instead).

It prints launches/s, latency percentiles of the full launch, errors, the server's CPU time per
launch (utime+stime of the server process tree during the measured window), the ratio of that
to one bare RS256 signature of the same id_token payload, the client's own CPU and the CPU
other processes took meanwhile (the machine may be shared: compare figures of one run).

    .venv/bin/python -m bench.launch_flow                   # gunicorn.conf.py defaults, 20 s
    .venv/bin/python -m bench.launch_flow --topology sync2  # one named topology
    .venv/bin/python -m bench.launch_flow --compare         # main topologies, interleaved
    .venv/bin/python -m bench.launch_flow --profile 300     # where a launch's CPU goes

``--compare`` starts every server first, then measures them in ``--rounds`` interleaved slices
so that background noise hits all of them alike. ``--profile`` drives the WSGI application
in-process (no HTTP server) with cProfile, per-component costs and "what if" variants.

Only 127.0.0.1 is contacted; every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import datetime
import io
import json
import os
import pstats
import re
import secrets
import shutil
import signal
import socket
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
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY = "bench-launch-flow-not-a-secret-0123456789abcdefghijklmnopqrstuvwxyz"  # noqa: S105
HOST = "127.0.0.1"
REQUEST_TIMEOUT = 10.0  # seconds for one full launch before it counts as an error
SERVER_START_TIMEOUT = 60.0
CLK_TCK = os.sysconf("SC_CLK_TCK")
STEP2_FIXED = b"scope=openid&response_type=id_token&response_mode=form_post&prompt=none"
ID_TOKEN_RE = re.compile(rb'name="id_token" value="([^"]+)"')


# --- topologies ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Topology:
    name: str
    server: str  # "gunicorn" or "uvicorn"
    workers: int
    threads: int = 1
    worker_class: str = "sync"
    env: tuple[tuple[str, str], ...] = ()  # extra environment of the server

    @property
    def processes(self) -> int:
        """The processes of a started server: a master and its workers (uvicorn -w 1: one)."""
        if self.workers == 0:  # as configured: at least a master and one worker
            return 2
        return 1 if self.server == "uvicorn" and self.workers == 1 else self.workers + 1

    @property
    def label(self) -> str:
        extra = "".join(f", {k}={v}" for k, v in self.env)
        return self._label + extra

    @property
    def _label(self) -> str:
        if self.workers == 0:
            return "gunicorn, config/gunicorn.conf.py defaults"
        if self.server == "uvicorn":
            return f"uvicorn ASGI, {self.workers} worker{'s' if self.workers > 1 else ''}"
        if self.worker_class == "gthread":
            return f"gunicorn gthread, {self.workers} workers × {self.threads} threads"
        return f"gunicorn {self.worker_class}, {self.workers} workers"


TOPOLOGIES = {
    t.name: t
    for t in [
        Topology("default", "gunicorn", 0),
        Topology("sync2", "gunicorn", 2),
        Topology("sync3", "gunicorn", 3),
        Topology("sync4", "gunicorn", 4),
        Topology("gthread2x1", "gunicorn", 2, 1, "gthread"),
        Topology("gthread2x2", "gunicorn", 2, 2, "gthread"),
        Topology("gthread2x4", "gunicorn", 2, 4, "gthread"),
        Topology("gthread2x8", "gunicorn", 2, 8, "gthread"),
        Topology("sync2-cma0", "gunicorn", 2, env=(("MANABI_CONN_MAX_AGE", "0"),)),
        Topology("gthread2x4-cma0", "gunicorn", 2, 4, "gthread", (("MANABI_CONN_MAX_AGE", "0"),)),
        Topology("gthread3x1", "gunicorn", 3, 1, "gthread"),
        Topology("gthread3x2", "gunicorn", 3, 2, "gthread"),
        Topology("gthread4x4", "gunicorn", 4, 4, "gthread"),
        Topology("uvicorn1", "uvicorn", 1),
        Topology("uvicorn2", "uvicorn", 2),
    ]
}
COMPARE = ["sync2", "gthread2x2", "gthread2x4", "gthread4x4", "uvicorn1", "uvicorn2"]


def uvicorn_available() -> bool:
    try:
        import uvicorn  # noqa: F401
    except ImportError:
        return False
    return True


# --- the throw-away installation -----------------------------------------------------------------


@dataclass
class Installation:
    """A throw-away data directory and the environment its server and commands run with."""

    data_dir: Path
    port: int
    env: dict[str, str]


@dataclass
class Install(Installation):
    students: list[tuple[bytes, bytes]]  # (Cookie header value, launch path)
    redirect_uris: dict[bytes, bytes]  # client_id → URL-encoded registered redirect_uri
    key_pem: bytes
    kid: str


def free_port(preferred: int = 0) -> int:
    """Return ``preferred`` if nothing uses it, else a port the kernel says is free."""
    for port in (preferred, 0) if preferred else (0,):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((HOST, port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise OSError("no free port")


def django_env(data_dir: Path, port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "MANABI_DATA_DIR": str(data_dir),
            "DJANGO_SETTINGS_MODULE": "config.settings.base",
            "MANABI_LTI_ISSUER": f"http://{HOST}:{port}",
            "MANABI_SECRET_KEY": SECRET_KEY,
            "MANABI_DEBUG": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    for name in ("MANABI_SQLITE_PATH", "MANABI_ACCESS_LOG", "MANABI_KEY_ENCRYPTION_KEYS"):
        env.pop(name, None)
    return env


def run_step(args: list[str], env: dict[str, str], what: str) -> None:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    if done.returncode != 0:
        sys.exit(f"{what} failed:\n{done.stdout}\n{done.stderr}")
    print(f"  {what}: {time.perf_counter() - started:.1f} s", flush=True)


def build_install(data_dir: Path, port: int, students: int) -> Install:
    env = django_env(data_dir, port)
    print(f"setting up {data_dir} (issuer http://{HOST}:{port}, {students} extra students)")
    run_step(["manage.py", "migrate", "-v", "0"], env, "migrate")
    run_step(["manage.py", "seed_demo"], env, "seed_demo")
    out = data_dir / "bench_students.json"
    run_step(
        ["-m", "bench.launch_flow", "--internal-populate", str(out), "--students", str(students)],
        env,
        "students, enrollments, sessions",
    )
    data = json.loads(out.read_text())
    return Install(
        data_dir=data_dir,
        port=port,
        env=env,
        students=[(f"sessionid={key}".encode(), path.encode()) for key, path in data["students"]],
        redirect_uris={
            cid.encode(): quote(uri, safe="").encode() for cid, uri in data["redirect_uris"].items()
        },
        key_pem=Path(data["key_pem"]).read_bytes(),
        kid=data["kid"],
    )


def populate(out: Path, count: int) -> None:
    """(Runs in a subprocess with the bench's environment.) Add students and their sessions."""
    import django

    django.setup()
    from cryptography.hazmat.primitives import serialization
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import transaction

    from lti_platform.keys import key_ring
    from lti_platform.services import launch_tiles
    from roster.demo import FAMILY, GIVEN
    from roster.models import ClassType, Enrollment, RosterRole, SchoolClass, User
    from tools_registry.models import Registration

    classes = list(
        SchoolClass.objects.filter(class_type=ClassType.HOMEROOM)
        .select_related("school")
        .order_by("pk")
    )
    if not classes:
        sys.exit("seed_demo created no homeroom class")
    unusable = make_password(None)  # no password hashing: the bench never uses the login form
    with transaction.atomic():
        batch = []
        for i in range(count):
            school_class = classes[i % len(classes)]
            family, family_kana = FAMILY[i % len(FAMILY)]
            given, given_kana = GIVEN[(i // len(FAMILY)) % len(GIVEN)]
            batch.append(
                User(
                    username=f"bench-student-{i:05d}",
                    password=unusable,
                    last_name=family,
                    first_name=given,
                    kana_family_name=family_kana,
                    kana_given_name=given_kana,
                    role=RosterRole.STUDENT,
                    grade=school_class.grade,
                    org=school_class.school,
                    home_class=school_class,
                )
            )
        User.objects.bulk_create(batch, batch_size=500)
        users = list(
            User.objects.filter(username__startswith="bench-student-")
            .select_related("home_class__school")
            .order_by("username")
        )
        Enrollment.objects.bulk_create(
            [
                Enrollment(
                    user=user,
                    school_class=user.home_class,
                    school=user.home_class.school,
                    role=RosterRole.STUDENT,
                    shusseki_no=100 + i // len(classes),
                )
                for i, user in enumerate(users)
                if user.home_class is not None
            ],
            batch_size=500,
        )
        rows: list[tuple[str, str]] = []
        for user in users:
            assert user.home_class is not None
            tiles = [
                t
                for t in launch_tiles(user)
                if t.placement.deployment.registration.tool.slug == "demo-drill"
            ]
            if not tiles or tiles[0].school_class.pk != user.home_class.pk:
                sys.exit(f"{user.username}: no drill tile for the home class")
            session = SessionStore()
            session[SESSION_KEY] = str(user.pk)
            session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
            session[HASH_SESSION_KEY] = user.get_session_auth_hash()
            session.create()
            assert session.session_key is not None
            path = f"/lti/launch/{tiles[0].placement.resource_link_id}/{user.home_class.sourced_id}"
            rows.append((session.session_key, path))
    signing = key_ring.signing_key()
    key_path = out.parent / "bench_signing_key.pem"
    key_path.write_bytes(
        signing.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    redirect_uris = {r.client_id: r.redirect_uris[0] for r in Registration.objects.all()}
    out.write_text(
        json.dumps(
            {
                "students": rows,
                "redirect_uris": redirect_uris,
                "key_pem": str(key_path),
                "kid": signing.kid,
            }
        )
    )


# --- the server --------------------------------------------------------------------------------


def descendants(pid: int) -> list[int]:
    """Return pid and all its descendants (bounded walk of /proc/<pid>/task/*/children)."""
    found: list[int] = []
    todo = [pid]
    while todo and len(found) < 1000:
        current = todo.pop()
        found.append(current)
        task_dir = Path(f"/proc/{current}/task")
        with contextlib.suppress(OSError):
            for task in task_dir.iterdir():
                with contextlib.suppress(OSError):
                    todo.extend(int(c) for c in (task / "children").read_text().split())
    return found


def tree_cpu_seconds(pid: int) -> float:
    """utime+stime (and of reaped children) of a process tree, in seconds."""
    ticks = 0
    for p in descendants(pid):
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{p}/stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            # fields[0] is field 3 (state): utime=14, stime=15, cutime=16, cstime=17
            ticks += sum(int(v) for v in fields[11:15])
    return ticks / CLK_TCK


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent not idle (all cores), from /proc/stat."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    ticks = [int(v) for v in fields]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
    busy = sum(ticks[:8]) - idle  # user nice system idle iowait irq softirq steal
    return busy / CLK_TCK


def wait_for_quiet(max_wait: float, threshold: float = 0.15) -> float:
    """Wait (at most ``max_wait`` s) until the machine is < threshold busy; return the wait."""
    started = time.monotonic()
    cores = os.cpu_count() or 1
    while time.monotonic() - started < max_wait:
        busy0 = machine_busy_seconds()
        time.sleep(1.0)
        if (machine_busy_seconds() - busy0) / cores < threshold:
            break
    return time.monotonic() - started


def server_command(
    topology: Topology, port: int, app: str = "config.wsgi"
) -> tuple[list[str], dict[str, str]]:
    """The command and extra environment of a server; ``app`` is gunicorn's WSGI app spec."""
    if topology.server == "uvicorn":
        cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            "config.asgi:application",
            "--host",
            HOST,
            "--port",
            str(port),
            "--workers",
            str(topology.workers),
            "--no-access-log",
            "--no-server-header",
            "--log-level",
            "warning",
        ]
        return cmd, {}
    cmd = [sys.executable, "-m", "gunicorn", app, "-c", "config/gunicorn.conf.py"]
    if topology.workers == 0:
        return cmd, {"MANABI_BIND": f"{HOST}:{port}"}
    return cmd, {
        "MANABI_BIND": f"{HOST}:{port}",
        "MANABI_WORKERS": str(topology.workers),
        "MANABI_THREADS": str(topology.threads),
        "MANABI_WORKER_CLASS": topology.worker_class,
    }


def http_ok(port: int, path: str) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=2) as sock:
            sock.sendall(
                f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode()
            )
            return sock.recv(16).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int  # usually the issuer's port; another one if something else took it meanwhile
    log: Path


@contextlib.contextmanager
def running_server(
    install: Installation, topology: Topology, app: str = "config.wsgi", log_name: str = ""
) -> Iterator[Server]:
    port = free_port(install.port)  # the issuer URL need not match the port we serve on
    cmd, extra = server_command(topology, port, app)
    env = {**install.env, **extra, **dict(topology.env)}
    log_path = install.data_dir / f"server-{log_name or topology.name}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                sys.exit(f"server exited ({proc.returncode}); see {log_path}")
            if len(descendants(proc.pid)) >= topology.processes and http_ok(port, "/lti/jwks"):
                break
            time.sleep(0.2)
        else:
            sys.exit(f"server did not start within {SERVER_START_TIMEOUT:.0f} s; see {log_path}")
        yield Server(proc, port, log_path)
    finally:
        stop_server(proc)


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    tree = descendants(proc.pid)
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        for pid in tree:  # only the processes this bench started
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=5)
    for pid in tree[1:]:  # workers outliving their master (should not happen)
        for _ in range(50):
            if not Path(f"/proc/{pid}").exists():
                break
            time.sleep(0.1)


# --- the client ----------------------------------------------------------------------------------


class HttpError(Exception):
    pass


class Connection:
    """One HTTP/1.1 connection: keep-alive when the server allows it, else reconnect."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.host = f"Host: {HOST}:{port}\r\n".encode()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def get(self, path: bytes, cookie: bytes) -> tuple[int, bytes, bytes]:
        """Return (status, Location, body)."""
        head = b"GET " + path + b" HTTP/1.1\r\n" + self.host + b"Cookie: " + cookie + b"\r\n\r\n"
        return await self.request(head)

    async def request(self, head: bytes) -> tuple[int, bytes, bytes]:
        """Send one complete raw request (``head`` includes any body); return as ``get``.

        A request on a reused keep-alive connection that the server had closed is sent once
        more on a new connection.
        """
        for attempt in (0, 1):
            reused = self.writer is not None
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
            assert self.reader is not None and self.writer is not None
            try:
                self.writer.write(head)
                block = await self.reader.readuntil(b"\r\n\r\n")
            except (ConnectionError, asyncio.IncompleteReadError):
                self.close()
                if reused and attempt == 0:  # the server closed an idle keep-alive connection
                    continue
                raise
            return await self._response(block)
        raise HttpError("unreachable")

    async def _response(self, block: bytes) -> tuple[int, bytes, bytes]:
        assert self.reader is not None
        lines = block.split(b"\r\n")
        status = int(lines[0][9:12])
        keep_alive = lines[0].startswith(b"HTTP/1.1")
        length = -1
        chunked = False
        location = b""
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"location":
                location = value.strip()
            elif name == b"connection" and value.strip().lower() == b"close":
                keep_alive = False
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if status in (204, 304) or 100 <= status < 200:  # no body (RFC 9112 §6.3)
            body = b""
        elif chunked:
            body = await self._chunked()
        elif length >= 0:
            body = await self.reader.readexactly(length)
        else:
            body = await self.reader.read(10_000_000)
            keep_alive = False
        if not keep_alive:
            self.close()
        return status, location, body

    async def _chunked(self) -> bytes:
        assert self.reader is not None
        parts: list[bytes] = []
        for _ in range(100_000):
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)
        raise HttpError("too many chunks")


@dataclass
class LoadResult:
    launches: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    wall_s: float = 0.0
    client_cpu_s: float = 0.0
    server_cpu_s: float = 0.0
    others_cpu_s: float = 0.0  # CPU used by other processes on the machine meanwhile
    sample_id_token: str = ""
    sample_error: bytes = b""  # the start of the first failed response, for diagnosis

    rates: list[float] = field(default_factory=list)  # of each measured slice

    def add(self, other: LoadResult) -> None:
        """Merge a slice measured later into this result."""
        self.launches += other.launches
        self.errors.update(other.errors)
        self.latencies_ms.extend(other.latencies_ms)
        self.wall_s += other.wall_s
        self.client_cpu_s += other.client_cpu_s
        self.server_cpu_s += other.server_cpu_s
        self.others_cpu_s += other.others_cpu_s
        self.sample_id_token = self.sample_id_token or other.sample_id_token
        self.sample_error = self.sample_error or other.sample_error
        self.rates.append(other.rate)

    def percentile(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]

    @property
    def rate(self) -> float:
        return self.launches / self.wall_s if self.wall_s else 0.0

    @property
    def others_share(self) -> float:
        """Fraction of the machine's CPU capacity other processes used during the window."""
        capacity = self.wall_s * (os.cpu_count() or 1)
        return self.others_cpu_s / capacity if capacity else 0.0

    @property
    def server_cores(self) -> float:
        """How many cores the server kept busy on average."""
        return self.server_cpu_s / self.wall_s if self.wall_s else 0.0

    @property
    def server_ms_per_launch(self) -> float:
        return 1000 * self.server_cpu_s / self.launches if self.launches else float("nan")


async def one_launch(
    conn: Connection, cookie: bytes, path: bytes, install: Install, result: LoadResult
) -> bool:
    status, location, body = await conn.get(path, cookie)
    if status != 302 or b"?" not in location:
        result.errors[f"step1 HTTP {status}"] += 1
        result.sample_error = result.sample_error or body[:400]
        return False
    query = dict(
        part.split(b"=", 1) for part in location.split(b"?", 1)[1].split(b"&") if b"=" in part
    )
    try:
        client_id = query[b"client_id"]
        step2 = b"".join(
            [
                b"/lti/authorize?",
                STEP2_FIXED,
                b"&client_id=",
                client_id,
                b"&redirect_uri=",
                install.redirect_uris[client_id],
                b"&login_hint=",
                query[b"login_hint"],
                b"&lti_message_hint=",
                query[b"lti_message_hint"],
                b"&nonce=",
                secrets.token_hex(12).encode(),
                b"&state=",
                secrets.token_hex(12).encode(),
            ]
        )
    except KeyError as exc:
        result.errors[f"step1 Location lacks {exc}"] += 1
        return False
    status, _, body = await conn.get(step2, cookie)
    if status != 200 or b'name="id_token"' not in body:
        result.errors[f"step2 HTTP {status}" + ("" if status != 200 else " without id_token")] += 1
        result.sample_error = result.sample_error or body[:400]
        return False
    if not result.sample_id_token:
        match = ID_TOKEN_RE.search(body)
        result.sample_id_token = match.group(1).decode() if match else ""
    return True


async def load(
    install: Install,
    port: int,
    concurrency: int,
    seconds: float,
    max_launches: int,
    offset: int,
    per_launch: bool,
) -> LoadResult:
    """Run ``concurrency`` clients until the deadline; each launch is a different student.

    With ``per_launch`` every launch opens its own connection (a student's browser: step 2
    reuses step 1's connection when the server keeps it alive); otherwise a client keeps one
    connection for all its launches.
    """
    result = LoadResult()
    deadline = time.monotonic() + seconds
    started = 0
    students = install.students

    async def client() -> None:
        nonlocal started
        conn = Connection(port)
        try:
            while time.monotonic() < deadline and started < max_launches:
                cookie, path = students[(offset + started) % len(students)]
                started += 1
                t0 = time.perf_counter()
                try:
                    async with asyncio.timeout(REQUEST_TIMEOUT):
                        ok = await one_launch(conn, cookie, path, install, result)
                except (OSError, asyncio.IncompleteReadError, HttpError, ValueError) as exc:
                    result.errors[type(exc).__name__] += 1
                    conn.close()
                    continue
                except TimeoutError:
                    result.errors["timeout"] += 1
                    conn.close()
                    continue
                if ok:
                    result.launches += 1
                    result.latencies_ms.append(1000 * (time.perf_counter() - t0))
                if per_launch:
                    conn.close()
        finally:
            conn.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    result.wall_s = time.perf_counter() - t0
    return result


def measure(
    install: Install,
    server: Server,
    *,
    concurrency: int,
    seconds: float,
    max_launches: int,
    offset: int,
    per_launch: bool,
) -> LoadResult:
    return with_cpu_accounting(
        server.proc.pid,
        lambda: asyncio.run(
            load(install, server.port, concurrency, seconds, max_launches, offset, per_launch)
        ),
    )


def with_cpu_accounting(pid: int, run: Callable[[], LoadResult]) -> LoadResult:
    """Call ``run`` (a load in this process); add the CPU of the server tree ``pid``, of this
    process and of everything else on the machine meanwhile to its result."""
    cpu0 = tree_cpu_seconds(pid)
    busy0 = machine_busy_seconds()
    times0 = os.times()
    result = run()
    times1 = os.times()
    busy1 = machine_busy_seconds()
    result.server_cpu_s = tree_cpu_seconds(pid) - cpu0
    result.client_cpu_s = (times1.user - times0.user) + (times1.system - times0.system)
    result.others_cpu_s = max(0.0, busy1 - busy0 - result.server_cpu_s - result.client_cpu_s)
    return result


# --- the bare signature ---------------------------------------------------------------------------


def bare_sign_ms(key_pem: bytes, kid: str, id_token: str, count: int) -> float:
    """Median wall time of one RS256 sign of ``id_token``'s payload with a loaded key object."""
    import jwt
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(key_pem, password=None)
    payload = jwt.decode(id_token, options={"verify_signature": False})
    samples = []
    for i in range(count + 20):
        t0 = time.perf_counter()
        jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid})  # type: ignore[arg-type]
        if i >= 20:
            samples.append(time.perf_counter() - t0)
    return 1000 * statistics.median(samples)


# --- in-process profile (no HTTP server) ---------------------------------------------------------


def profile(data: Path, count: int) -> None:
    """(Runs in a subprocess.) Drive the WSGI application in-process and show where time goes.

    Requests go through ``config.wsgi.application`` the way a gunicorn worker calls it, so the
    request_finished signal closes the database connection (CONN_MAX_AGE=0) as in production.
    Figures are CPU time of this single process (time.process_time), so they are what a worker
    spends per launch, without HTTP parsing. The "what if" variants monkeypatch settings and
    one function in this process only; they change no file.
    """
    import django
    import jwt

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from lti_platform import ags, services
    from lti_platform.keys import key_ring

    spec = json.loads(data.read_text())
    students: list[tuple[str, str]] = spec["students"]
    redirect_uris: dict[str, str] = spec["redirect_uris"]
    port = os.environ["MANABI_LTI_ISSUER"].rsplit(":", 1)[1]
    app = WSGIHandler()
    next_student = iter(range(10**9))
    last: dict[str, bytes] = {}

    def call(path: str, cookie: str) -> tuple[str, dict[str, str], bytes]:
        raw_path, _, query = path.partition("?")
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": raw_path,
            "QUERY_STRING": query,
            "SERVER_NAME": HOST,
            "SERVER_PORT": port,
            "HTTP_HOST": f"{HOST}:{port}",
            "HTTP_COOKIE": cookie,
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            "wsgi.version": (1, 0),
        }
        seen: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
            seen["status"] = status
            seen["headers"] = dict(headers)

        response = app(environ, start_response)
        try:
            body = b"".join(response)
        finally:
            response.close()  # what the WSGI server does: fires request_finished
        return seen["status"], seen["headers"], body

    def launch() -> tuple[float, float]:
        """One full launch; return the CPU seconds of step 1 and of step 2."""
        key, path = students[next(next_student) % len(students)]
        cookie = f"sessionid={key}"
        t0 = time.process_time()
        status, headers, _ = call(path, cookie)
        t1 = time.process_time()
        assert status.startswith("302"), status
        query = dict(p.split("=", 1) for p in headers["Location"].split("?", 1)[1].split("&"))
        cid = query["client_id"]
        step2 = (
            f"/lti/authorize?{STEP2_FIXED.decode()}&client_id={cid}"
            f"&redirect_uri={quote(redirect_uris[cid], safe='')}"
            f"&login_hint={query['login_hint']}&lti_message_hint={query['lti_message_hint']}"
            f"&nonce={secrets.token_hex(12)}&state={secrets.token_hex(12)}"
        )
        t2 = time.process_time()
        status, _, body = call(step2, cookie)
        t3 = time.process_time()
        assert status.startswith("200") and b'name="id_token"' in body, (status, body[:300])
        last["body"] = body
        return t1 - t0, t3 - t2

    def cpu_per_launch(n: int) -> tuple[float, float, float]:
        """Mean CPU ms per launch, median ms of step 1 and of step 2."""
        for _ in range(min(20, n)):
            launch()
        step1, step2 = [], []
        t0 = time.process_time()
        for _ in range(n):
            a, b = launch()
            step1.append(a)
            step2.append(b)
        mean = 1000 * (time.process_time() - t0) / n
        return mean, 1000 * statistics.median(step1), 1000 * statistics.median(step2)

    def per_call_ms(fn: Any, n: int = 300) -> float:
        for _ in range(20):
            fn()
        t0 = time.process_time()
        for _ in range(n):
            fn()
        return 1000 * (time.process_time() - t0) / n

    launch()
    with CaptureQueriesContext(connection) as captured:
        launch()
    statements = [q["sql"] for q in captured.captured_queries]  # copy: requests reset the log
    print(f"SQL in one full launch (step 1 + step 2): {len(statements)} statements")
    for sql in statements:
        print(f"  {sql[:120]}")

    base = cpu_per_launch(count)
    print(
        f"\nCPU per full launch, in-process, mean of {count}: {base[0]:.2f} ms "
        f"(step 1 median {base[1]:.2f} ms, step 2 median {base[2]:.2f} ms)"
    )
    jwks_ms = per_call_ms(lambda: call("/lti/jwks", ""))
    print(f"  for scale: GET /lti/jwks (middleware, no DB): {jwks_ms:.2f} ms")

    # Where a launch's CPU goes: building blocks measured on their own.
    user_model = get_user_model()
    session_key = students[0][0]
    user = user_model.objects.get(pk=SessionStore(session_key).load()["_auth_user_id"])
    match = ID_TOKEN_RE.search(last["body"])
    assert match is not None
    payload = jwt.decode(match.group(1), options={"verify_signature": False})
    signing = key_ring.signing_key()
    selects = [sql for sql in statements if sql.lstrip().upper().startswith("SELECT")]

    def reconnect() -> None:
        connection.close()
        connection.ensure_connection()

    def reconnect_and_load() -> None:
        connection.close()
        SessionStore(session_key).load()

    def replay_selects() -> None:
        with connection.cursor() as cursor:
            for sql in selects:
                cursor.execute(sql)
                cursor.fetchall()

    floor = "GET /lti/jwks through every middleware, no DB (a launch is 2 requests)"
    raw_sql = f"the launch's {len(selects)} SELECTs replayed as raw SQL (no ORM)"
    session_load = "session load (SessionMiddleware, db backend)"
    user_load = "user load (AuthenticationMiddleware)"
    sign = "RS256 sign of the id_token with the loaded key"
    components: list[tuple[str, Any]] = [
        (floor, lambda: call("/lti/jwks", "")),
        ("close + open SQLite connection (init_command PRAGMAs)", reconnect),
        ("close + open + session load (compare with session load alone)", reconnect_and_load),
        (session_load, lambda: SessionStore(session_key).load()),
        (user_load, lambda: user_model.objects.get(pk=user.pk)),
        (raw_sql, replay_selects),
        (sign, lambda: signing.sign(payload)),
    ]
    # Service functions of the launch path, looked up by name so that a refactoring of the
    # application shows up as "n/a" here instead of breaking the bench.
    rl_id, class_id = students[0][1].split("/")[3:5]
    service = vars(services)
    try:
        allowed = service["authorize_placement"](user, rl_id, class_id)
        deployment = allowed.placement.deployment
        expires = timezone.now() + datetime.timedelta(seconds=300)
        components += [
            (
                "services.authorize_placement (membership + placement; twice per launch)",
                lambda: service["authorize_placement"](user, rl_id, class_id),
            ),
            (
                "services._registration_for",
                lambda: service["_registration_for"](deployment.registration.client_id),
            ),
            (
                "ags.line_item_for_launch",
                lambda: vars(ags)["line_item_for_launch"](
                    deployment, allowed.placement, allowed.school_class
                ),
            ),
            (
                "services.consume_once (BEGIN IMMEDIATE, INSERT, COMMIT)",
                lambda: service["consume_once"](
                    "bench:" + secrets.token_hex(8), expires_at=expires
                ),
            ),
        ]
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        print(f"(service components n/a: {type(exc).__name__}: {exc})")
    print("\ncomponent costs, CPU ms per call (persistent connection unless stated):")
    costs: dict[str, float] = {}
    for label, fn in components:
        try:  # the application changes; a component that no longer fits is reported, not fatal
            costs[label] = per_call_ms(fn)
        except Exception as exc:
            print(f"     n/a  {label}: {type(exc).__name__}: {exc}")
            continue
        print(f"  {costs[label]:6.3f}  {label}")
    connection.close()

    cores = os.cpu_count() or 1

    def what_if(ms: float, label: str) -> None:
        print(f"  {ms:6.2f}  {label:58s} (≈ {1000 * cores / ms:.0f} launches/s on {cores} cores)")

    def ttl_cached(fn: Any, key: Any) -> Any:
        """fn, with its results kept per process for 30 s (the fix these variants suggest)."""
        memo: dict[Any, tuple[float, Any]] = {}

        def cached(*args: Any, **kwargs: Any) -> Any:
            k = key(*args, **kwargs)
            hit = memo.get(k)
            if hit is None or hit[0] < time.monotonic():
                hit = memo[k] = (time.monotonic() + 30, fn(*args, **kwargs))
            return hit[1]

        return cached

    print("\nwhat if (cumulative; monkeypatched in this process only), CPU ms per full launch:")
    what_if(base[0], "as is")
    max_age = connection.settings_dict["CONN_MAX_AGE"]
    connection.settings_dict["CONN_MAX_AGE"] = None
    connection.close()
    persistent = cpu_per_launch(count)[0]
    what_if(persistent, "+ persistent DB connections (CONN_MAX_AGE=None)")
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    app = WSGIHandler()  # SessionMiddleware picks its engine when it is built
    what_if(cpu_per_launch(count)[0], "+ SESSION_ENGINE cached_db")
    patches = [  # configuration rows: change rarely, read on every launch
        (services, "_registration_for", lambda client_id: client_id),
        (ags, "line_item_for_launch", lambda d, p, c: (d.pk, p.pk, c.pk)),
    ]
    saved = []
    for module, name, key in patches:
        original = vars(module).get(name)
        if original is None:
            print(f"     n/a  {module.__name__}.{name} no longer exists")
            continue
        saved.append((module, name, original))
        setattr(module, name, ttl_cached(original, key))
        what_if(cpu_per_launch(count)[0], f"+ {module.__name__}.{name} cached 30 s")
    for module, name, original in saved:
        setattr(module, name, original)
    connection.settings_dict["CONN_MAX_AGE"] = max_age
    connection.close()
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    app = WSGIHandler()

    c = {k: costs.get(k, 0.0) for k in (floor, raw_sql, session_load, user_load, sign)}
    rest = persistent - 2 * c[floor] - c[raw_sql] - c[sign] - 2 * (c[session_load] + c[user_load])
    print(
        f"\nsplit of the {persistent:.2f} ms of a launch on persistent connections:\n"
        f"  {2 * c[floor]:6.2f}  framework floor, 2 requests\n"
        f"  {2 * (c[session_load] + c[user_load]):6.2f}  session + user loads, 2 requests\n"
        f"  {c[sign]:6.2f}  RS256 sign\n"
        f"  {c[raw_sql]:6.2f}  SQLite executing the {len(selects)} SELECTs "
        "(session/user ones counted twice)\n"
        f"  {rest:6.2f}  the rest: ORM query building for the other queries, the INSERT, "
        "hints, claims, the form page"
    )

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(count):
        launch()
    profiler.disable()
    for sort, restriction, what in (
        (
            "cumulative",
            r"(lti_platform|roster|tools_registry|contrib/(auth|sessions))/",
            "our code",
        ),
        ("tottime", r".", "everything"),
    ):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(sort).print_stats(restriction, 22)
        print(f"\ncProfile of {count} launches as is, {what} by {sort} (cProfile inflates Python):")
        lines = out.getvalue().splitlines()
        start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
        print("\n".join(line for line in lines[start:] if line.strip()))


# --- main ---------------------------------------------------------------------------------------


def fmt_row(name: str, r: LoadResult, sign_ms: float) -> str:
    ratio = r.server_ms_per_launch / sign_ms if sign_ms else float("nan")
    errors = sum(r.errors.values())
    return (
        f"| {name} | {r.rate:.0f} | {r.percentile(0.5):.1f} | {r.percentile(0.9):.1f} "
        f"| {r.percentile(0.99):.1f} | {max(r.latencies_ms, default=float('nan')):.1f} "
        f"| {errors} | {r.server_cores:.2f} | {r.server_ms_per_launch:.2f} | {ratio:.1f}× "
        f"| {1000 * r.client_cpu_s / max(r.launches, 1):.2f} | {100 * r.others_share:.0f} % |"
    )


TABLE_HEAD = (
    "| topology | launches/s | p50 ms | p90 ms | p99 ms | max ms | errors | server cores busy "
    "| server CPU ms/launch | ÷ bare sign | client CPU ms/launch | others' CPU |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def print_result(r: LoadResult) -> None:
    errors = sum(r.errors.values())
    print(f"  {r.launches} launches in {r.wall_s:.2f} s → {r.rate:.1f} launches/s; errors {errors}")
    if r.errors:
        print(f"  errors: {dict(r.errors)}; first failed response starts {r.sample_error!r}")
    print(
        f"  full launch latency ms: p50 {r.percentile(0.5):.1f}  p90 {r.percentile(0.9):.1f}  "
        f"p99 {r.percentile(0.99):.1f}  max {max(r.latencies_ms, default=float('nan')):.1f}"
    )
    print(
        f"  server CPU {r.server_cpu_s:.2f} s ({r.server_cores:.2f} cores) → "
        f"{r.server_ms_per_launch:.2f} ms/launch; "
        f"client CPU {r.client_cpu_s:.2f} s ({1000 * r.client_cpu_s / max(r.launches, 1):.2f}"
        " ms/launch)",
    )
    print(
        f"  other processes on the machine: {r.others_cpu_s:.2f} CPU-s "
        f"({100 * r.others_share:.0f} % of {os.cpu_count()} cores)",
        flush=True,
    )


def run_topologies(
    install: Install, topologies: list[Topology], args: argparse.Namespace
) -> list[tuple[Topology, LoadResult]]:
    """Measure each topology; in ``args.rounds`` interleaved slices so noise hits all alike.

    Every server is started (and warmed up) first and stays up, idle, while the others are
    measured; a round then gives each topology ``seconds / rounds`` of load in turn.
    """
    per_launch = args.connections == "per-launch"
    offset = 0
    results = {t.name: LoadResult() for t in topologies}
    with contextlib.ExitStack() as stack:
        servers: dict[str, Server] = {}
        for topology in topologies:
            server = stack.enter_context(running_server(install, topology))
            servers[topology.name] = server
            warm = measure(
                install,
                server,
                concurrency=args.concurrency,
                seconds=args.warmup,
                max_launches=args.launches,
                offset=offset,
                per_launch=per_launch,
            )
            offset += warm.launches + sum(warm.errors.values())
            print(
                f"  started {topology.name} ({topology.label}) on port {server.port}; warm-up "
                f"{warm.launches} launches"
                + (f", errors {dict(warm.errors)}" if warm.errors else ""),
                flush=True,
            )
        slice_s = args.seconds / args.rounds
        for round_no in range(args.rounds):
            waited = wait_for_quiet(args.quiet_wait)
            note = f" after waiting {waited:.0f} s for a quieter machine" if waited > 1.5 else ""
            print(f"round {round_no + 1}/{args.rounds}{note}:", flush=True)
            for topology in topologies:
                part = measure(
                    install,
                    servers[topology.name],
                    concurrency=args.concurrency,
                    seconds=slice_s,
                    max_launches=args.launches,
                    offset=offset,
                    per_launch=per_launch,
                )
                offset += part.launches + sum(part.errors.values())
                results[topology.name].add(part)
                print(
                    f"  {topology.name:15s} {part.rate:6.1f} launches/s  p99 "
                    f"{part.percentile(0.99):7.1f} ms  server {part.server_ms_per_launch:5.2f} "
                    f"ms/launch  others' CPU {100 * part.others_share:3.0f} %",
                    flush=True,
                )
    for topology in topologies:
        print(f"\n== {topology.name}: {topology.label}")
        print_result(results[topology.name])
    return [(t, results[t.name]) for t in topologies]


def git_describe() -> str:
    """The commit measured, and whether the working tree differs from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(["git", "diff", "--quiet", "HEAD"], cwd=ROOT, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return head + (" + uncommitted changes" if dirty.returncode else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--topology", default="default", choices=sorted(TOPOLOGIES))
    parser.add_argument("--compare", action="store_true", help="run " + ", ".join(COMPARE))
    parser.add_argument("--topologies", help="comma-separated list for --compare")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20.0, help="measured window")
    parser.add_argument("--launches", type=int, default=1_000_000, help="cap per window")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds before measuring")
    parser.add_argument(
        "--connections",
        choices=["per-launch", "persistent"],
        default="per-launch",
        help="a new connection per launch (each student's browser; default) or one per client",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=0,
        help="interleaved slices per topology (default: 4 with --compare, else 1)",
    )
    parser.add_argument("--students", type=int, default=2000)
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=10.0,
        help="wait up to this many seconds for other processes to use < 15%% CPU before a round",
    )
    parser.add_argument("--sign-samples", type=int, default=500)
    parser.add_argument("--profile", type=int, metavar="N", help="in-process profile of N launches")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    parser.add_argument("--internal-populate", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--internal-profile", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.internal_populate:
        populate(args.internal_populate, args.students)
        return
    if args.internal_profile:
        profile(args.internal_profile, args.profile or 300)
        return

    if args.compare:
        names = args.topologies.split(",") if args.topologies else COMPARE
    else:
        names = [args.topology]
    topologies = []
    for name in names:
        if name not in TOPOLOGIES:
            parser.error(f"unknown topology {name!r}")
        if TOPOLOGIES[name].server == "uvicorn" and not uvicorn_available():
            print(f"skipping {name}: uvicorn is not installed")
            continue
        topologies.append(TOPOLOGIES[name])
    if not 1 <= args.concurrency <= 1024 or not 0 < args.seconds <= 600:
        parser.error("--concurrency must be 1..1024 and --seconds 0..600")
    args.rounds = args.rounds or (4 if len(topologies) > 1 else 1)
    if not 1 <= args.rounds <= 20:
        parser.error("--rounds must be 1..20")

    print(
        f"machine: nproc {os.cpu_count()}, Python {sys.version.split()[0]}, {sys.platform}; "
        f"code {git_describe()}; MANABI_CONN_MAX_AGE "
        f"{os.environ.get('MANABI_CONN_MAX_AGE', 'unset (gunicorn.conf.py default)')}"
    )
    data_dir = Path(tempfile.mkdtemp(prefix="manabi-bench-"))
    failed = False
    try:
        install = build_install(data_dir, args.port or free_port(), args.students)
        if args.profile:
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "bench.launch_flow",
                    "--internal-profile",
                    str(data_dir / "bench_students.json"),
                    "--profile",
                    str(args.profile),
                ],
                cwd=ROOT,
                env=install.env,
                timeout=900,
            )
            if done.returncode:
                sys.exit(done.returncode)
            return
        results = run_topologies(install, topologies, args)
        failed = any(r.errors for _, r in results)
        token = next((r.sample_id_token for _, r in results if r.sample_id_token), "")
        sign_ms = (
            bare_sign_ms(install.key_pem, install.kid, token, args.sign_samples) if token else 0.0
        )
        print(
            f"\nbare RS256 sign of the same id_token payload ({len(token)} chars), loaded key "
            f"object, median of {args.sign_samples}: {sign_ms:.3f} ms (server stopped)"
        )
        print(
            f"\n{args.concurrency} concurrent clients, connection {args.connections}, "
            f"{args.seconds:.0f} s per topology\n"
        )
        print(TABLE_HEAD)
        for topology, result in results:
            print(fmt_row(topology.name, result, sign_ms))
        print("\ntarget: ≥ 300 launches/s with p99 < 150 ms")
        for topology, result in results:
            met = result.rate >= 300 and result.percentile(0.99) < 150 and not result.errors
            print(f"  {topology.name}: {'met' if met else 'missed'}")
    finally:
        if args.keep or failed:
            print(f"data and server logs kept in {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
