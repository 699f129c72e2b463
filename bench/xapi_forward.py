"""xAPI forwarding: statements per second from the outbox to a local Ralph LRS.

In a throw-away installation (bench/common.py: migrate, seed_demo) each run starts a fresh
Ralph (``tests/peers/ralph.py``: ralph-malph 5.1.0, FS backend, Basic auth, on 127.0.0.1),
adds an LRS for the demo board (batch size ``--batch-size``) held in back-off, writes
``--statements`` statements with ``studylog.capture.store`` (1,000 per transaction, the
statement and its forwarding row, as a launch or a score writes them), starts ``--forwarders``
``manage.py run_xapi_forwarder`` processes and, once they run, lifts the back-off
(``studylog.forwarder.resume``). The clock runs from that commit to each row's
``delivered_at``; at the end Ralph's file must hold every statement exactly once.

For scale, the same statements' bytes are POSTed straight to another fresh Ralph, in the same
batches, from as many keep-alive clients as forwarders: Ralph's own ingest rate, so the ratio
shows what the forwarder costs. Ralph's FS backend re-reads its whole file on every POST, so
it slows as the file grows: each rate is given for the first ``--start`` statements and overall.

    .venv/bin/python -m bench.xapi_forward                       # 20,000 statements, 1 and 2
    .venv/bin/python -m bench.xapi_forward --statements 5000 --forwarders 1
"""

from __future__ import annotations

import argparse
import base64
import datetime
import http.client
import itertools
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import common

TARGET_RATE = 2000  # statements forwarded per second on 2 cores (issue 9)
DELIVERY_TIMEOUT = 900.0  # seconds for one run, an upper bound only
FORWARDER_SETTINGS = {"MANABI_XAPI_FORWARD_POLL_SECONDS": "0.1"}  # idle poll (default 0.5)


# --- (Django) run through Installation.call -------------------------------------------------


def populate() -> dict[str, Any]:
    """(Django) Nothing beyond the demo: the statements are written per run."""
    from roster.models import User

    return {"students": User.objects.filter(role="student", home_class__isnull=False).count()}


def prepare(url: str, username: str, password: str, batch_size: int, count: int) -> dict[str, Any]:
    """(Django) Deactivate earlier runs' LRSs; add this run's, held in back-off; write
    ``count`` statements (each with its forwarding row to it)."""
    from django.utils import timezone

    from studylog.models import LrsEndpoint
    from tests.multiprocess import xapi_forwarding

    LrsEndpoint.objects.update(active=False)
    pk = xapi_forwarding.add_lrs(url, username, password, batch_size=batch_size)
    LrsEndpoint.objects.filter(pk=pk).update(retry_at=timezone.now() + datetime.timedelta(days=1))
    started = time.perf_counter()
    ids = xapi_forwarding.create_statements(count, per_transaction=1000)
    return {"lrs": pk, "ids": ids, "write_s": time.perf_counter() - started}


def release(lrs: int) -> float:
    """(Django) Lift the LRS's back-off: the forwarders take it at their next pass. Return
    the time (``time.time()``) it committed."""
    from studylog import forwarder
    from studylog.models import LrsEndpoint

    forwarder.resume(lrs=LrsEndpoint.objects.get(pk=lrs))
    return time.time()


# --- the runs -----------------------------------------------------------------------------


@dataclass
class Run:
    label: str
    count: int
    start_count: int
    start_s: float  # seconds until the first start_count were stored
    total_s: float
    cpu_s: float = 0.0  # the forwarders' CPU (0: not measured)

    @property
    def start_rate(self) -> float:
        return self.start_count / self.start_s

    @property
    def rate(self) -> float:
        return self.count / self.total_s


def _moment(text: str) -> float:
    """A Django SQLite datetime (UTC, "YYYY-MM-DD HH:MM:SS[.ffffff]") as a Unix time."""
    moment = datetime.datetime.fromisoformat(text)
    return moment.replace(tzinfo=datetime.UTC).timestamp()


def check_stored(ralph: Any, ids: list[str]) -> None:
    stored = [str(uuid.UUID(s["id"])) for s in ralph.stored_statements()]
    if len(stored) != len(set(stored)) or set(stored) != set(ids):
        twice = len(stored) - len(set(stored))
        raise SystemExit(
            f"Ralph holds {len(stored)} statements ({twice} twice), {len(set(ids) - set(stored))}"
            f" of {len(ids)} missing"
        )


def forward_run(
    inst: common.Installation, args: argparse.Namespace, forwarders: int, work: Path
) -> tuple[Run, list[str]]:
    from tests.multiprocess import xapi_forwarding as xf
    from tests.peers.ralph import start_ralph

    ralph = start_ralph(work / f"ralph-forward-{forwarders}")
    processes: list[xf.ForwarderProcess] = []
    try:
        made = inst.call(
            "bench.xapi_forward:prepare",
            url=ralph.base_url + "/",
            username=ralph.username,
            password=ralph.password,
            batch_size=args.batch_size,
            count=args.statements,
        )
        print(f"  wrote {args.statements} statements in {made['write_s']:.1f} s", flush=True)
        env = inst.env | FORWARDER_SETTINGS
        for n in range(forwarders):
            processes.append(xf.start_forwarder(env, inst.data_dir, f"bench-{forwarders}-{n}"))
        for p in processes:
            p.wait_running()
        common.wait_for_quiet(args.quiet_wait)
        cpu0 = sum(common.tree_cpu_seconds(p.process.pid) for p in processes)
        t0 = inst.call("bench.xapi_forward:release", lrs=made["lrs"])
        sql = "SELECT COUNT(*) FROM studylog_forwarding WHERE lrs_id = ? AND state = 'delivered'"

        def delivered() -> bool:
            return bool(xf.read(inst.data_dir, sql, (made["lrs"],))[0][0] >= args.statements)

        if not xf.wait_until(delivered, DELIVERY_TIMEOUT):
            inst.keep = True
            raise SystemExit(f"not delivered within {DELIVERY_TIMEOUT:.0f} s; see {inst.data_dir}")
        cpu = sum(common.tree_cpu_seconds(p.process.pid) for p in processes) - cpu0
        rows = xf.read(
            inst.data_dir,
            "SELECT delivered_at FROM studylog_forwarding WHERE lrs_id = ? ORDER BY delivered_at",
            (made["lrs"],),
        )
        times = [_moment(r[0]) - t0 for r in rows]
        check_stored(ralph, made["ids"])
    finally:
        for p in processes:
            p.stop()
        ralph.stop()
    start = min(args.start, args.statements)
    label = f"forwarder × {forwarders} (run_xapi_forwarder)"
    return Run(label, len(times), start, times[start - 1], times[-1], cpu), made["ids"]


def direct_run(
    inst: common.Installation, args: argparse.Namespace, clients: int, ids: list[str], work: Path
) -> Run:
    """POST the stored bytes of ``ids`` straight to a fresh Ralph, ``batch_size`` per POST
    in the same order, from ``clients`` keep-alive connections."""
    from studylog.xapi.statements import batch_body
    from tests.multiprocess import xapi_forwarding as xf
    from tests.peers.ralph import start_ralph

    order = {i: n for n, i in enumerate(ids)}
    bodies = [b""] * len(ids)
    for statement_id, body in xf.read(inst.data_dir, "SELECT id, body FROM studylog_statement"):
        n = order.get(str(uuid.UUID(statement_id)))
        if n is not None:
            bodies[n] = bytes(body)
    size = args.batch_size
    batches = [batch_body(bodies[i : i + size]) for i in range(0, len(bodies), size)]
    ralph = start_ralph(work / f"ralph-direct-{clients}")
    auth = "Basic " + base64.b64encode(f"{ralph.username}:{ralph.password}".encode()).decode()
    headers = {"Authorization": auth, "X-Experience-API-Version": "1.0.3"}
    headers["Content-Type"] = "application/json; charset=utf-8"
    feed, lock = iter(enumerate(batches)), threading.Lock()
    done: list[tuple[int, float]] = []  # (batch, when Ralph's answer was in)
    failures: list[tuple[int, float]] = []

    def client() -> None:
        conn = http.client.HTTPConnection(common.HOST, ralph.port, timeout=120)
        while True:
            with lock:
                item = next(feed, None)
            if item is None:
                break
            n, body = item
            conn.request("POST", "/xAPI/statements", body=body, headers=headers)
            answer = conn.getresponse()
            answer.read()
            with lock:
                (done if answer.status == 200 else failures).append((n, time.time()))
        conn.close()

    try:
        common.wait_for_quiet(args.quiet_wait)
        t0 = time.time()
        threads = [threading.Thread(target=client) for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if failures:
            raise SystemExit(f"Ralph refused {len(failures)} direct POSTs; see {ralph.log_path}")
        check_stored(ralph, ids)
    finally:
        ralph.stop()
    counts = [min(size, len(ids) - n * size) for n, _ in done]
    ends = [end - t0 for _, end in done]
    stored = list(itertools.accumulate(counts))
    start = min(args.start, len(ids))
    start_s = next(e for s, e in zip(stored, ends, strict=True) if s >= start)
    return Run(f"Ralph direct, {clients} client(s)", len(ids), start, start_s, ends[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--statements", type=int, default=20_000, help="per run")
    parser.add_argument("--batch-size", type=int, default=500, help="the LRS's batch size")
    parser.add_argument("--forwarders", default="1,2", help="comma-separated process counts")
    parser.add_argument("--start", type=int, default=5000, help="the 'first N' rate's N")
    parser.add_argument("--quiet-wait", type=float, default=20.0, help="max s before a run")
    parser.add_argument("--port", type=int, default=0, help="the issuer's port")
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    args = parser.parse_args()
    counts = [int(c) for c in args.forwarders.split(",")]
    if not (1 <= args.statements <= 200_000 and 1 <= args.batch_size <= 5000):
        parser.error("--statements 1..200000, --batch-size 1..5000")
    if not all(1 <= c <= 8 for c in counts):
        parser.error("--forwarders: 1..8 each")
    rows: list[tuple[Run, Run]] = []
    with (
        common.installation("bench.xapi_forward:populate", args) as inst,
        tempfile.TemporaryDirectory(prefix="manabi-bench-ralph-") as tmp,
    ):
        for count in counts:
            print(f"\n== {count} forwarder(s), {args.statements} statements", flush=True)
            forwarded, ids = forward_run(inst, args, count, Path(tmp))
            direct = direct_run(inst, args, count, ids, Path(tmp))
            for run in (forwarded, direct):
                print(
                    f"  {run.label}: first {run.start_count} in {run.start_s:.2f} s → "
                    f"{run.start_rate:.0f}/s; all {run.count} in {run.total_s:.2f} s → "
                    f"{run.rate:.0f}/s",
                    flush=True,
                )
            rows.append((forwarded, direct))
    print(
        f"\n{args.statements} statements per run, batches of {args.batch_size}, Ralph 5.1.0 FS "
        f"backend on 127.0.0.1, {common.CORES} cores\n\n"
        f"| run | first {args.start:,} /s | overall /s | Ralph direct: first /s | overall /s "
        "| forwarded ÷ direct | forwarder CPU ms per 1,000 |\n|---|" + "---:|" * 6
    )
    for forwarded, direct in rows:
        cells = [f"{forwarded.start_rate:.0f}", f"{forwarded.rate:.0f}"]
        cells += [f"{direct.start_rate:.0f}", f"{direct.rate:.0f}"]
        cells += [
            f"{forwarded.rate / direct.rate:.2f}",
            f"{1e6 * forwarded.cpu_s / forwarded.count:.0f}",
        ]
        print(f"| {forwarded.label} | " + " | ".join(cells) + " |")
    best = max(f.rate for f, _ in rows)
    verdict = "met" if best >= TARGET_RATE else "NOT met"
    print(f"\ntarget ≥ {TARGET_RATE:,} statements/s forwarded: {verdict} (best {best:.0f}/s)")


if __name__ == "__main__":
    main()
