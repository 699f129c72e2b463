"""The benches' shared harness: a throw-away installation, the product's servers, a raw
HTTP/1.1 load client with CPU accounting, the in-process WSGI driver, the reports.

The benches drive the product only through its public entry points: management commands, the
roster and registry models, Django's own login, HTTP and the WSGI application
(``config.wsgi``). A serving variant is a setting of the product (``MANABI_WORKER_CLASS``,
``MANABI_WORKERS``, ``MANABI_THREADS``, ``MANABI_CONN_MAX_AGE``), never a copy of its code.
Only 127.0.0.1 is contacted; every loop is bounded in count and time.

Internal: ``python -m bench.common MODULE:FUNCTION KWARGS_JSON OUT_FILE`` calls a bench function
with Django set up (the installation's environment) and writes what it returns as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import importlib
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
import wsgiref.util
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
SECRET_KEY = "bench-not-a-secret-0123456789abcdefghijklmnopqrstuvwxyz-0123456789"  # noqa: S105
REQUEST_TIMEOUT = 10.0  # seconds for one request (or full launch) before it counts as an error
SERVER_START_TIMEOUT = 60.0
CLK_TCK = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1
PRODUCT_CODE = r"(lti_platform|roster|tools_registry|portal|sso|events|contrib/(auth|sessions))/"
# ``--rsa portable``: OpenSSL's capability mask with AVX-512 IFMA (CPUID.7.0:EBX bit 21) taken
# away, for every process of the installation. On CPUs that have it (AMD Zen 4, Intel Ice Lake
# and later) OpenSSL's RSA uses it and signs ~2.4x faster, while nothing else gets faster.
PORTABLE_RSA = ":~0x200000"


# --- options and topologies (the product's serving settings) ------------------------------------


@dataclass(frozen=True)
class Topology:
    name: str
    label: str
    env: tuple[tuple[str, str], ...] = ()  # the product's settings for this topology
    processes: int = 2  # a started server has at least these (gunicorn: master + workers)


def topology(name: str) -> Topology:
    """default (config/gunicorn.conf.py as is), uvicorn1 (scripts/serve.sh, the embedded
    mode), sync<W> or gthread<W>x<T>, optionally with -cma0 (MANABI_CONN_MAX_AGE=0)."""
    if name in ("default", "uvicorn1"):
        embedded = name == "uvicorn1"
        label = "uvicorn ASGI, scripts/serve.sh" if embedded else "gunicorn.conf.py defaults"
        return Topology(name, label, (), 1 if embedded else 2)
    match = re.fullmatch(r"(sync|gthread)(\d+)(?:x(\d+))?(-cma0)?", name)
    if match is None or (match[1] == "sync") == bool(match[3]):
        raise ValueError(f"unknown topology {name!r}")
    kind, workers, threads = match[1], match[2], match[3] or "1"
    env = {"MANABI_WORKER_CLASS": kind, "MANABI_WORKERS": workers, "MANABI_THREADS": threads}
    env |= {"MANABI_CONN_MAX_AGE": "0"} if match[4] else {}
    label = f"gunicorn {kind}, {workers} workers" + (f" × {threads} threads" if match[3] else "")
    label += ", MANABI_CONN_MAX_AGE=0" if match[4] else ""
    return Topology(name, label, tuple(env.items()), int(workers) + 1)


def arguments(doc: str | None, *, students: int, quiet_wait: float) -> argparse.ArgumentParser:
    """The options every load bench has."""
    parser = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])
    parser.add_argument("--topology", default="default", type=topology, help=topology.__doc__)
    parser.add_argument("--concurrency", type=int, default=32, help="clients, 1..1024")
    parser.add_argument("--seconds", type=float, default=20.0, help="the main measured window")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds before measuring")
    parser.add_argument("--students", type=int, default=students)
    parser.add_argument(
        "--quiet-wait", type=float, default=quiet_wait, help="max s before a window"
    )
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="in-process profile")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    parser.add_argument(
        "--rsa",
        choices=["native", "portable"],
        default="native",
        help="portable: every process of the installation runs OpenSSL without AVX-512 IFMA "
        "(the RSA code path of CPUs without it)",
    )
    return parser


# --- the throw-away installation ----------------------------------------------------------------


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


@dataclass
class Installation:
    """A temporary MANABI_DATA_DIR, migrated and seeded, and the environment of its processes."""

    data_dir: Path
    port: int  # the issuer's port
    env: dict[str, str]
    data: dict[str, Any] = field(default_factory=dict)  # what the bench's populate returned
    keep: bool = False  # keep the data directory (and the server logs) at the end

    def run(self, what: str, args: list[str], quiet: bool = True) -> None:
        """Run ``python args`` in this installation's environment (and with
        ``MANABI_CONN_MAX_AGE=600`` unless set, as config/gunicorn.conf.py sets it)."""
        started = time.perf_counter()
        env = {"MANABI_CONN_MAX_AGE": "600", **self.env}
        done = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=quiet)
        if done.returncode != 0:
            output = (done.stdout or b"") + (done.stderr or b"")
            sys.exit(f"{what} failed ({done.returncode}):\n{output.decode(errors='replace')}")
        if quiet:
            print(f"  {what}: {time.perf_counter() - started:.1f} s", flush=True)

    def call(self, target: str, *, quiet: bool = True, **kwargs: Any) -> Any:
        """Call ``target`` ("module:function") with Django set up, in a subprocess (``run``);
        return what it returned."""
        out = self.data_dir / f"call-{secrets.token_hex(4)}.json"
        given = out.with_suffix(".args.json")  # a file: the arguments may exceed ARG_MAX
        given.write_text(json.dumps(kwargs))
        self.run(target, ["-m", "bench.common", target, str(given), str(out)], quiet)
        return json.loads(out.read_text())


@contextlib.contextmanager
def installation(populate: str, args: argparse.Namespace, **kwargs: Any) -> Iterator[Installation]:
    """migrate, seed_demo, then ``populate`` (a bench function, see ``Installation.call``);
    ``args``: the bench's ``--port`` and ``--keep``."""
    describe_machine(getattr(args, "rsa", "native"))
    data_dir = Path(tempfile.mkdtemp(prefix=f"manabi-bench-{populate.split(':')[0][6:]}-"))
    (data_dir / "static").mkdir()  # STATIC_ROOT (WhiteNoise warns when it is missing)
    port = getattr(args, "port", 0) or free_port()
    drop = ("MANABI_SQLITE_PATH", "MANABI_ACCESS_LOG", "MANABI_KEY_ENCRYPTION_KEYS")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env |= {"MANABI_DATA_DIR": str(data_dir), "DJANGO_SETTINGS_MODULE": "config.settings.base"}
    env |= {"MANABI_LTI_ISSUER": f"http://{HOST}:{port}", "MANABI_SECRET_KEY": SECRET_KEY}
    env |= {"MANABI_DEBUG": "0", "PYTHONDONTWRITEBYTECODE": "1"}
    if getattr(args, "rsa", "native") == "portable":
        env["OPENSSL_ia32cap"] = PORTABLE_RSA
    inst = Installation(data_dir, port, env, keep=args.keep)
    print(f"setting up {data_dir} (issuer http://{HOST}:{port})", flush=True)
    ok = False
    try:
        inst.run("migrate", ["manage.py", "migrate", "-v", "0"])
        inst.run("seed_demo", ["manage.py", "seed_demo"])
        inst.data = inst.call(populate, **kwargs)
        yield inst
        ok = True
    finally:
        if inst.keep or not ok:
            print(f"data and server logs kept in {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


def add_classes(like: Any, codes: list[str]) -> list[Any]:
    """(Django) A scheduled class per code in the school, course and terms of ``like``."""
    from roster.models import ClassType, SchoolClass

    made = []
    fields = {"course": like.course, "school": like.school, "grades": like.grades}
    for code in codes:
        title, kind = f"ベンチ {code}", ClassType.SCHEDULED
        made.append(
            SchoolClass.objects.create(title=title, class_code=code, class_type=kind, **fields)
        )
        made[-1].terms.set(like.terms.all())
    return made


def register_tool(slug: str, classes: list[Any], **registration: Any) -> dict[str, str]:
    """(Django) Register a tool with ``manage.py register_tool``: deployed to the district of
    ``classes`` and placed in each; return its ``client_id`` and ``redirect_uri``."""
    from django.conf import settings
    from django.core.management import call_command

    base = f"https://{slug}.example"
    registration |= {"initiate_login_uri": base + "/login", "target_link_uri": base + "/launch"}
    placements = [
        {"school": c.school.identifier, "class": c.class_code, "title": c.title} for c in classes
    ]
    district = classes[0].school.parent.identifier
    spec = {
        "tool": {"slug": slug, "name": slug, "kind": "drill"},
        "registration": registration | {"redirect_uris": [base + "/launch"]},
        "deployments": [{"deployment_id": district, "org": district, "placements": placements}],
    }
    path = Path(settings.DATA_DIR) / f"{slug}.json"
    path.write_text(json.dumps(spec))
    out = io.StringIO()
    call_command("register_tool", str(path), stdout=out)
    return {"client_id": json.loads(out.getvalue())["client_id"], "redirect_uri": base + "/launch"}


def add_students(prefix: str, classes: list[list[Any]]) -> list[Any]:
    """(Django) One student per entry of ``classes``, named ``<prefix>00000`` …, enrolled in
    each of its classes (the first is the homeroom), through the roster models."""
    from django.contrib.auth.hashers import make_password

    from roster.demo import FAMILY, GIVEN
    from roster.models import Enrollment, RosterRole, User

    unusable = make_password(None)  # the benches never use the login form
    users = []
    for i, own in enumerate(classes):
        family, family_kana = FAMILY[i % len(FAMILY)]
        given, given_kana = GIVEN[i // len(FAMILY) % len(GIVEN)]
        user = User(username=f"{prefix}{i:05d}", password=unusable, role=RosterRole.STUDENT)
        user.last_name, user.kana_family_name = family, family_kana
        user.first_name, user.kana_given_name = given, given_kana
        user.grade, user.org, user.home_class = own[0].grade, own[0].school, own[0]
        users.append(user)
    User.objects.bulk_create(users, batch_size=500)  # SQLite >= 3.35 returns the pks
    Enrollment.objects.bulk_create(
        [
            Enrollment(user=u, school_class=c, school=c.school, role=RosterRole.STUDENT)
            for u, own in zip(users, classes, strict=True)
            for c in own
        ],
        batch_size=500,
    )
    return users


def sign_in(users: list[Any]) -> list[str]:
    """(Django) A signed-in session per user, made by Django's own login (the test client's
    ``force_login``: no password hashing) with the idle deadline a real sign-in's response
    gives it (``sso.idle``); return each one's Cookie header value."""
    import datetime

    from django.conf import settings
    from django.test import Client
    from django.utils import timezone

    from sso import idle

    cookies = []
    for user in users:
        client = Client()
        client.force_login(user)
        session = client.session
        session.set_expiry(
            timezone.now() + datetime.timedelta(seconds=idle.idle_timeout(user.role))
        )
        session.save()
        cookies.append(f"{settings.SESSION_COOKIE_NAME}={session.session_key}")
    return cookies


# --- servers and CPU accounting ------------------------------------------------------------------


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int  # usually the issuer's port; another one if something else took it meanwhile
    topology: Topology


@contextlib.contextmanager
def serve(inst: Installation, topo: Topology) -> Iterator[Server]:
    """Start the product's server for ``topo`` (gunicorn with config/gunicorn.conf.py, or
    scripts/serve.sh) and wait until it answers ``/lti/jwks``; stop it at the end."""
    port = free_port(inst.port)  # the issuer URL need not match the port we serve on
    cmd = [sys.executable, "-m", "gunicorn", "config.wsgi", "-c", "config/gunicorn.conf.py"]
    cmd = ["scripts/serve.sh"] if topo.name == "uvicorn1" else cmd
    env = {**inst.env, **dict(topo.env), "MANABI_BIND": f"{HOST}:{port}"}
    log_path = inst.data_dir / f"server-{topo.name}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        jwks = raw_request(port, "GET", "/lti/jwks", {})
        while len(descendants(proc.pid)) < topo.processes or fetch(port, jwks)[0] != 200:
            if proc.poll() is not None or time.monotonic() > deadline:
                inst.keep = True
                sys.exit(f"server {topo.name} did not start ({proc.poll()}); see {log_path}")
            time.sleep(0.2)
        yield Server(proc, port, topo)
    finally:
        tree = descendants(proc.pid)
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            for pid in tree:  # only the processes this bench started
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            proc.wait(timeout=5)


def descendants(pid: int) -> list[int]:
    """Return pid and all its descendants (bounded walk of /proc/<pid>/task/*/children)."""
    found: list[int] = []
    todo = [pid]
    while todo and len(found) < 1000:
        found.append(todo.pop())
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{found[-1]}/task").iterdir():
                with contextlib.suppress(OSError):
                    todo.extend(int(c) for c in (task / "children").read_text().split())
    return found


def tree_cpu_seconds(pid: int) -> float:
    """utime+stime (and of reaped children) of a process tree, in seconds."""
    ticks = 0
    for p in descendants(pid):
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{p}/stat").read_text()
            ticks += sum(int(v) for v in stat[stat.rindex(")") + 2 :].split()[11:15])
    return ticks / CLK_TCK


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent not idle (all cores), from /proc/stat."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(ticks[:8]) - ticks[3] - ticks[4]) / CLK_TCK  # minus idle and iowait


def wait_for_quiet(max_wait: float, threshold: float = 0.15) -> None:
    """Wait (at most ``max_wait`` s) until the machine is less than ``threshold`` busy."""
    started = time.monotonic()
    while time.monotonic() - started < max_wait:
        busy0 = machine_busy_seconds()
        time.sleep(1.0)
        if (machine_busy_seconds() - busy0) / CORES < threshold:
            break
    if (waited := time.monotonic() - started) > 1.5:
        print(f"  (waited {waited:.0f} s for a quieter machine)", flush=True)


# --- the load client -----------------------------------------------------------------------------


class HttpError(Exception):
    pass


class Connection:
    """One raw HTTP/1.1 connection: keep-alive when the server allows it, else reconnect."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.head = b""  # the header block of the last response

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(self, raw: bytes) -> tuple[int, bytes, bytes]:
        """Send one complete raw request; return (status, Location, body). A request on a
        reused keep-alive connection that the server had closed is sent once more."""
        for attempt in (0, 1):
            reused = self.writer is not None
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
            assert self.reader is not None and self.writer is not None
            try:
                self.writer.write(raw)
                self.head = await self.reader.readuntil(b"\r\n\r\n")
            except (ConnectionError, asyncio.IncompleteReadError):
                self.close()
                if reused and attempt == 0:
                    continue
                raise
            return await self._response(self.reader)
        raise HttpError("unreachable")

    async def _response(self, reader: asyncio.StreamReader) -> tuple[int, bytes, bytes]:
        lines = self.head.split(b"\r\n")
        status = int(lines[0][9:12])
        keep_alive = lines[0].startswith(b"HTTP/1.1")
        length, location = -1, b""
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"location":
                location = value.strip()
            elif name == b"connection" and value.strip().lower() == b"close":
                keep_alive = False
            elif name == b"transfer-encoding":  # Django's CommonMiddleware sets Content-Length
                raise HttpError(f"Transfer-Encoding {value.strip()!r} is not read")
        if status in (204, 304) or 100 <= status < 200:  # no body (RFC 9112 §6.3)
            body = b""
        elif length >= 0:
            body = await reader.readexactly(length)
        else:
            body, keep_alive = await reader.read(10_000_000), False
        if not keep_alive:
            self.close()
        return status, location, body


def raw_request(
    port: int, method: str, path: str, headers: dict[str, str], body: bytes = b""
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body or method in ("POST", "PUT"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def fetch(port: int, raw: bytes) -> tuple[int, bytes, bytes]:
    """One raw request on its own connection, as ``Connection.request``; status 0: no answer."""

    async def once() -> tuple[int, bytes, bytes]:
        conn = Connection(port)
        try:
            return await conn.request(raw)
        except (OSError, asyncio.IncompleteReadError, HttpError, ValueError) as exc:
            return 0, b"", str(exc).encode()
        finally:
            conn.close()

    return asyncio.run(once())


Reply = tuple[str, bytes]  # ("", good reply) or (error label, the start of the reply)
Step = Callable[[Connection], Awaitable[Reply | None]]  # None: nothing left to send
STEP2 = b"/lti/authorize?scope=openid&response_type=id_token&response_mode=form_post&prompt=none"


def authorize_path(location: bytes, redirect_uri: bytes) -> bytes:
    """What a tool answers the platform's login initiation (step 1's ``Location``) with: the
    OIDC authentication request (step 2), fresh nonce and state; ``redirect_uri`` URL-encoded."""
    query = dict(p.split(b"=", 1) for p in location.split(b"?", 1)[1].split(b"&") if b"=" in p)
    hints = [b"&login_hint=", query[b"login_hint"], b"&lti_message_hint="]
    parts = [STEP2, b"&client_id=", query[b"client_id"], b"&redirect_uri=", redirect_uri, *hints]
    nonce, state = secrets.token_hex(12).encode(), secrets.token_hex(12).encode()
    return b"".join([*parts, query[b"lti_message_hint"], b"&nonce=", nonce, b"&state=", state])


async def launch(conn: Connection, cookie: bytes, path: bytes, redirect_uri: bytes) -> Reply:
    """A full launch as a signed-in browser makes it: ``("", id_token)`` or an error."""
    get = b"GET %s HTTP/1.1\r\nHost: %s:%d\r\nCookie: %s\r\n\r\n"
    status, location, body = await conn.request(get % (path, HOST.encode(), conn.port, cookie))
    if status != 302 or b"?" not in location:
        return f"step1 HTTP {status}", body[:400]
    try:
        step2 = authorize_path(location, redirect_uri)
    except KeyError as exc:
        return f"step1 Location lacks {exc}", location
    status, _, body = await conn.request(get % (step2, HOST.encode(), conn.port, cookie))
    match = re.search(rb'name="id_token" value="([^"]+)"', body)
    if status != 200 or match is None:
        return f"step2 HTTP {status}" + (" without id_token" if status == 200 else ""), body[:400]
    return "", match[1]


@dataclass
class LoadResult:
    ok: int = 0  # good replies (or full launches)
    wall_s: float = 0.0
    server_cpu_s: float = 0.0  # the server's process tree
    client_cpu_s: float = 0.0  # this process
    others_cpu_s: float = 0.0  # every other process on the machine
    errors: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    sample: bytes = b""  # the first good reply
    sample_error: bytes = b""  # the start of the first failed reply, for diagnosis

    def add(self, other: LoadResult) -> None:
        """Merge a slice measured later into this result."""
        for name in ("ok", "wall_s", "server_cpu_s", "client_cpu_s", "others_cpu_s"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors.update(other.errors)
        self.latencies_ms.extend(other.latencies_ms)
        self.sample = self.sample or other.sample
        self.sample_error = self.sample_error or other.sample_error

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms) or [float("nan")]
        return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]

    @property
    def rate(self) -> float:
        return self.ok / self.wall_s if self.wall_s else 0.0

    @property
    def server_ms(self) -> float:
        """Server CPU per good reply, ms."""
        return 1000 * self.server_cpu_s / self.ok if self.ok else float("nan")

    @property
    def others_share(self) -> float:
        """Fraction of the machine's CPU capacity other processes used during the window."""
        return self.others_cpu_s / (self.wall_s * CORES) if self.wall_s else 0.0


async def drive(
    port: int, step: Step, *, concurrency: int, seconds: float, cap: int, fresh: bool
) -> LoadResult:
    """``concurrency`` clients call ``step`` until the deadline, ``cap`` calls or a step
    returning None; with ``fresh`` each call gets a new connection (a student's browser)."""
    result = LoadResult()
    deadline = time.monotonic() + seconds
    issued = 0

    async def client() -> None:
        nonlocal issued
        conn = Connection(port)
        while time.monotonic() < deadline and issued < cap:
            issued += 1
            t0 = time.perf_counter()
            try:
                async with asyncio.timeout(REQUEST_TIMEOUT):
                    reply = await step(conn)
            except (OSError, asyncio.IncompleteReadError, HttpError, ValueError) as exc:
                reply = type(exc).__name__, str(exc).encode()
                conn.close()
            except TimeoutError:
                reply = "timeout", b""
                conn.close()
            if reply is None:
                break
            if reply[0]:
                result.errors[reply[0]] += 1
                result.sample_error = result.sample_error or reply[1]
            else:
                result.ok += 1
                result.latencies_ms.append(1000 * (time.perf_counter() - t0))
                result.sample = result.sample or reply[1]
            if fresh:
                conn.close()
        conn.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    result.wall_s = time.perf_counter() - t0
    return result


def measure(server: Server, step: Step, *, fresh: bool = False, **load: Any) -> LoadResult:
    """``drive`` the server (``load``: concurrency, seconds, cap); add the CPU of its process
    tree, of this process and of everything else on the machine meanwhile."""
    cpu0, busy0, times0 = tree_cpu_seconds(server.proc.pid), machine_busy_seconds(), os.times()
    result = asyncio.run(drive(server.port, step, fresh=fresh, **{"cap": 1_000_000} | load))
    times1, busy1 = os.times(), machine_busy_seconds()
    result.server_cpu_s = tree_cpu_seconds(server.proc.pid) - cpu0
    result.client_cpu_s = (times1.user - times0.user) + (times1.system - times0.system)
    result.others_cpu_s = max(0.0, busy1 - busy0 - result.server_cpu_s - result.client_cpu_s)
    return result


# --- reports -------------------------------------------------------------------------------------


def cpu_flags() -> set[str]:
    """The CPU's feature flags (/proc/cpuinfo), empty where it cannot be read."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    line = next((line for line in text.splitlines() if line.startswith("flags")), "")
    return set(line.partition(":")[2].split())


def describe_machine(rsa: str = "native") -> None:
    git = ["git", "-C", str(ROOT)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run([*git, "diff", "--quiet", "HEAD"], capture_output=True).returncode
    max_age = os.environ.get("MANABI_CONN_MAX_AGE", "unset (gunicorn.conf.py default)")
    print(
        f"machine: nproc {CORES}, Python {sys.version.split()[0]}, {sys.platform}; code "
        f"{head.stdout.strip()}{' + uncommitted changes' if dirty else ''}; "
        f"MANABI_CONN_MAX_AGE {max_age}",
        flush=True,
    )
    ifma = "avx512ifma" in cpu_flags()
    print(
        f"RSA: {rsa}; the CPU {'has' if ifma else 'lacks'} AVX-512 IFMA"
        + (" (OpenSSL masked from it)" if ifma and rsa == "portable" else ""),
        flush=True,
    )


def report(what: str, r: LoadResult) -> None:
    """One line on a measured window (and its errors)."""
    print(
        f"  {what}: {r.ok} in {r.wall_s:.1f} s → {r.rate:.1f}/s, p50 {r.percentile(0.5):.1f} "
        f"p99 {r.percentile(0.99):.1f} ms, server {r.server_ms:.2f} ms CPU each, others' CPU "
        f"{100 * r.others_share:.0f} %, errors {dict(r.errors) or 0}"
        + (f"; the first failed reply starts {r.sample_error!r}" if r.errors else ""),
        flush=True,
    )


def print_table(
    first: str, rate: str, unit: str, rows: list[tuple[str, LoadResult]], sign_ms: float = 0.0
) -> None:
    """The docs/benchmarks.md table; with ``sign_ms``, a "÷ bare sign" column."""
    extra = " ÷ bare sign |" if sign_ms else ""
    print(
        f"| {first} | {rate} | p50 ms | p90 ms | p99 ms | max ms | errors | server cores busy "
        f"| server CPU ms/{unit} |{extra} client CPU ms/{unit} | others' CPU |\n"
        "|---|" + "---:|" * (10 + bool(sign_ms))
    )
    for name, r in rows:
        cells = [f"{r.rate:.0f}", *(f"{r.percentile(q):.1f}" for q in (0.5, 0.9, 0.99, 1.0))]
        cells += [str(sum(r.errors.values())), f"{r.server_cpu_s / r.wall_s:.2f}"]
        cells += [f"{r.server_ms:.2f}"] + ([f"{r.server_ms / sign_ms:.1f}×"] if sign_ms else [])
        cells += [f"{1000 * r.client_cpu_s / max(r.ok, 1):.2f}", f"{100 * r.others_share:.0f} %"]
        print(f"| {name} | " + " | ".join(cells) + " |")


# --- in-process: the product's WSGI application (runs under Installation.call) --------------------


class Wsgi:
    """``config.wsgi.application`` called as a gunicorn worker calls it (the response closed,
    so request_finished fires), without HTTP parsing."""

    def __init__(self) -> None:
        from urllib.parse import urlsplit

        from django.conf import settings

        from config.wsgi import application

        self.app, self.host = application, urlsplit(settings.LTI_ISSUER).netloc

    def __call__(
        self, method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> tuple[int, dict[str, str], bytes]:
        raw_path, _, query = path.partition("?")
        environ: dict[str, Any] = {"REQUEST_METHOD": method, "PATH_INFO": raw_path}
        environ |= {"QUERY_STRING": query, "HTTP_HOST": self.host, "wsgi.input": io.BytesIO(body)}
        environ |= {"CONTENT_LENGTH": str(len(body)), "wsgi.multiprocess": True}
        environ |= {"REMOTE_ADDR": HOST}  # as gunicorn sets it (the sign-in limits read it)
        wsgiref.util.setup_testing_defaults(environ)  # the other CGI and wsgi.* variables
        for name, value in (headers or {}).items():
            key = name.upper().replace("-", "_")
            environ[key if key == "CONTENT_TYPE" else "HTTP_" + key] = value
        seen: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
            seen.update(status=int(status[:3]), headers=dict(headers))

        response = self.app(environ, start_response)
        try:
            reply = b"".join(response)
        finally:
            response.close()
        return seen["status"], seen["headers"], reply


@contextlib.contextmanager
def recording_sql() -> Iterator[list[str]]:
    """The SQL statements run meanwhile on the default connection (Django's execute_wrapper)."""
    from django.db import connection

    seen: list[str] = []

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield seen


def per_call(fn: Callable[[], object], count: int) -> tuple[list[float], float]:
    """Wall ms of each of ``count`` calls (after up to 20 unmeasured), and CPU ms per call."""
    for _ in range(min(20, count)):
        fn()
    walls = []
    cpu0 = time.process_time()
    for _ in range(count):
        t0 = time.perf_counter()
        fn()
        walls.append(1000 * (time.perf_counter() - t0))
    return walls, 1000 * (time.process_time() - cpu0) / count


def profile(label: str, fn: Callable[[], object], count: int, top: int = 25) -> None:
    """Where ``fn``'s time goes (requests through ``Wsgi``): its SQL, CPU per call, cProfile."""
    with recording_sql() as sql:
        fn()
    walls, cpu_ms = per_call(fn, count)
    print(
        f"\n== {label}: CPU {cpu_ms:.2f} ms per call (in-process, mean of {count}; wall median "
        f"{statistics.median(walls):.2f} ms); {len(sql)} SQL statements:"
    )
    print("\n".join(f"  {statement[:140]}" for statement in sql))
    profiler = cProfile.Profile()
    profiler.runcall(lambda: [fn() for _ in range(count)])
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(PRODUCT_CODE, top)
    lines = out.getvalue().splitlines()
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    print(f"cProfile of {count} calls, our code by cumulative time (cProfile inflates Python):")
    print("\n".join(line for line in lines[start:] if line.strip()))


if __name__ == "__main__":
    import django

    django.setup()
    module, _, name = sys.argv[1].partition(":")
    given = json.loads(Path(sys.argv[2]).read_text())
    result = getattr(importlib.import_module(module), name)(**given)
    Path(sys.argv[3]).write_text(json.dumps(result))
