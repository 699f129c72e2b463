"""Real forwarder processes (``manage.py run_xapi_forwarder``) against a real LRS (Ralph).

Each test copies the demo database, adds an LRS for the demo board pointing at Ralph through
the fault proxy, writes statements with ``studylog.capture.store`` in a ``manage.py`` process,
and runs forwarders as the product runs them. The ends are counted: statements created =
statements at the LRS, none twice (Ralph's file, duplicates included), every forwarding row
delivered. The in-process fault cases (LRS down, 500s, hanging after storing, refusals, wrong
credentials) are in ``tests/studylog/test_forwarding_ralph.py``.
"""

from __future__ import annotations

import contextlib
import itertools
import shutil
import signal
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from tests import serving
from tests.multiprocess import xapi_forwarding as xf
from tests.multiprocess.conftest import DemoTemplate
from tests.peers.faultproxy import Exchange, FaultProxy
from tests.peers.ralph import RalphLRS

STATEMENTS = 1000
DELIVERY_TIMEOUT = 180.0  # seconds for every statement to be delivered (an upper bound only)


class Site(NamedTuple):
    data_dir: Path
    env: dict[str, str]

    def with_settings(self, **xapi: str) -> Site:
        """The forwarders' environment with ``MANABI_XAPI_<NAME>`` settings."""
        return Site(self.data_dir, {**self.env, **{f"MANABI_XAPI_{k}": v for k, v in xapi.items()}})

    def call(self, target: str, **kwargs: object) -> object:
        return xf.call(self.env, self.data_dir / "manage.log", target, **kwargs)


@pytest.fixture
def site(demo_template: DemoTemplate) -> Iterator[Site]:
    """A fresh copy of the demo data directory and the environment of its processes."""
    with tempfile.TemporaryDirectory(prefix="manabi-xapi-") as tmp:
        data_dir = Path(tmp) / "data"
        shutil.copytree(demo_template.data_dir, data_dir)
        env = serving.server_env(
            data_dir,
            issuer="http://127.0.0.1:9",
            bind="127.0.0.1:9",
            secret_key=demo_template.secret_key,
        )
        yield Site(data_dir, env | {"MANABI_XAPI_FORWARD_POLL_SECONDS": "0.1"})


@contextlib.contextmanager
def explained(ralph: RalphLRS, forwarders: list[xf.ForwarderProcess]) -> Iterator[None]:
    """On a failure, print every forwarder's log and Ralph's log tail; stop the forwarders."""
    try:
        yield
    except BaseException:
        for f in forwarders:
            print(f"--- forwarder {f.name} (exit {f.process.poll()}) ---\n{f.log()}")
        print(f"--- Ralph ---\n{ralph.log_tail()}")
        raise
    finally:
        for f in forwarders:
            f.stop()


def add_lrs(site: Site, ralph: RalphLRS, proxy: FaultProxy, **fields: object) -> None:
    site.call(
        "tests.multiprocess.xapi_forwarding:add_lrs",
        url=proxy.url + "/xAPI/",
        username=ralph.username,
        password=ralph.password,
        **fields,
    )


def create(site: Site, count: int, **kwargs: object) -> list[str]:
    ids = site.call("tests.multiprocess.xapi_forwarding:create_statements", count=count, **kwargs)
    assert isinstance(ids, list) and len(ids) == count
    return [str(i) for i in ids]


def wait_delivered(site: Site, count: int) -> None:
    done = xf.wait_until(lambda: xf.states(site.data_dir) == {"delivered": count}, DELIVERY_TIMEOUT)
    assert done, f"not all delivered within {DELIVERY_TIMEOUT:.0f}s: {xf.states(site.data_dir)}"


def at_lrs(ralph: RalphLRS) -> list[str]:
    """The ids Ralph stored, in order, duplicates included (normalised)."""
    return [str(uuid.UUID(s["id"])) for s in ralph.stored_statements()]


def posts(proxy: FaultProxy) -> list[Exchange]:
    return [e for e in proxy.exchanges if e.method == "POST"]


def test_a_forwarder_killed_with_a_post_in_flight_and_restarted_delivers_each_once(
    site: Site, ralph_lrs: RalphLRS, fault_proxy: Callable[[str], FaultProxy]
) -> None:
    proxy: FaultProxy = fault_proxy(ralph_lrs.base_url.rsplit("/", 1)[0])
    # A request starts only if it can end 5 s before the lease does (studylog/forwarder.py):
    # lease 15 s, at most 1 + 6 s per request.
    site = site.with_settings(FORWARD_LEASE_SECONDS="15", RETRY_SECONDS="0.2")
    add_lrs(site, ralph_lrs, proxy, batch_size=50, connect_timeout=1.0, read_timeout=6.0)
    created = create(site, STATEMENTS)
    # The 4th POST reaches Ralph, which stores its 50 statements; its answer is held back
    # (until the proxy stops) and the forwarder is killed meanwhile.
    proxy.delay_seconds = 600.0
    proxy.set("delay", times=1, after=3)
    first = xf.start_forwarder(site.env, site.data_dir, "first")
    forwarders = [first]
    with explained(ralph_lrs, forwarders):

        def held(exchanges: list[Exchange]) -> bool:
            return any(e.mode == "delay" and e.upstream_answered for e in exchanges)

        assert proxy.wait_for(held, timeout=xf.STARTUP_TIMEOUT + 60), xf.states(site.data_dir)
        first.kill()
        killed_at = time.monotonic()
        assert first.process.returncode == -signal.SIGKILL
        [in_flight] = [e for e in proxy.exchanges if e.mode == "delay"]
        assert len(in_flight.ids) == 50
        assert len(set(at_lrs(ralph_lrs)) & set(in_flight.ids)) == 50  # Ralph has them
        marks = ",".join("?" * len(in_flight.ids))
        sql = "SELECT state, claimed_by, claim_token != '', COUNT(*) FROM studylog_forwarding "
        sql += f"WHERE statement_id IN ({marks}) GROUP BY 1, 2, 3"
        claims = xf.read(site.data_dir, sql, tuple(uuid.UUID(i).hex for i in in_flight.ids))
        assert claims == [("pending", "first", 1, 50)]  # still claimed by the dead forwarder
        assert xf.states(site.data_dir) == {"delivered": 150, "pending": STATEMENTS - 150}

        forwarders.append(xf.start_forwarder(site.env, site.data_dir, "second"))
        wait_delivered(site, STATEMENTS)
        assert forwarders[1].stop() == 0

    stored = at_lrs(ralph_lrs)
    resent = [e for e in posts(proxy) if e.started > killed_at and set(e.ids) & set(in_flight.ids)]
    attempts = xf.read(
        site.data_dir,
        "SELECT claimed_by, attempts, COUNT(*) FROM studylog_forwarding GROUP BY 1, 2 ORDER BY 1",
    )
    counts = {
        "created": len(created),
        "at the LRS": len(stored),
        "at the LRS, distinct": len(set(stored)),
        "created and at the LRS": len(set(created) & set(stored)),
        "delivered": xf.states(site.data_dir).get("delivered", 0),
        "sent again after the kill": sum(len(set(e.ids) & set(in_flight.ids)) for e in resent),
    }
    print(counts, attempts)
    assert counts == {
        "created": STATEMENTS,
        "at the LRS": STATEMENTS,
        "at the LRS, distinct": STATEMENTS,
        "created and at the LRS": STATEMENTS,
        "delivered": STATEMENTS,
        "sent again after the kill": 50,
    }
    # The killed batch was claimed twice (the lease ran out), every other row once.
    assert attempts == [("first", 1, 150), ("second", 1, STATEMENTS - 200), ("second", 2, 50)]


def test_three_forwarders_at_once_deliver_each_statement_once_and_never_hold_one_together(
    site: Site, ralph_lrs: RalphLRS, fault_proxy: Callable[[str], FaultProxy]
) -> None:
    proxy: FaultProxy = fault_proxy(ralph_lrs.base_url.rsplit("/", 1)[0])
    site = site.with_settings(FORWARD_LEASE_SECONDS="60")
    add_lrs(site, ralph_lrs, proxy, batch_size=20)
    proxy.delay_seconds = 0.05  # a slower LRS: the forwarders' requests overlap
    proxy.set("delay")
    names = ["one", "two", "three"]
    forwarders = [xf.start_forwarder(site.env, site.data_dir, name) for name in names]
    with explained(ralph_lrs, forwarders):
        for f in forwarders:
            f.wait_running()
        # Written while the forwarders run, 100 per transaction (as events commit).
        created = create(site, STATEMENTS, per_transaction=100)
        wait_delivered(site, STATEMENTS)
        assert [f.stop() for f in forwarders] == [0, 0, 0]

    stored = at_lrs(ralph_lrs)
    sent = posts(proxy)
    end = time.monotonic()
    together = [
        (a, b)
        for a, b in itertools.combinations(sent, 2)
        if a.overlaps(b, end) and set(a.ids) & set(b.ids)
    ]
    by_forwarder = dict(
        xf.read(site.data_dir, "SELECT claimed_by, COUNT(*) FROM studylog_forwarding GROUP BY 1")
    )
    counts = {
        "created": len(created),
        "at the LRS": len(stored),
        "at the LRS, distinct": len(set(stored)),
        "created and at the LRS": len(set(created) & set(stored)),
        "delivered": xf.states(site.data_dir).get("delivered", 0),
        "posted": sum(len(e.ids) for e in sent),
        "claimed more than once": xf.read(
            site.data_dir, "SELECT COUNT(*) FROM studylog_forwarding WHERE attempts != 1"
        )[0][0],
        "in two requests at once": len(together),
    }
    print(counts, by_forwarder)
    assert counts == {
        "created": STATEMENTS,
        "at the LRS": STATEMENTS,
        "at the LRS, distinct": STATEMENTS,
        "created and at the LRS": STATEMENTS,
        "delivered": STATEMENTS,
        "posted": STATEMENTS,
        "claimed more than once": 0,
        "in two requests at once": 0,
    }
    assert sum(by_forwarder.values()) == STATEMENTS
    assert len(by_forwarder) >= 2, by_forwarder  # they did share the work
