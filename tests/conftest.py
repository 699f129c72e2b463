from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from demo_tools.setup import register_demo_tools
from lti_platform.config_cache import config_cache
from lti_platform.keys import ensure_keys, key_ring
from roster.demo import DEMO_PASSWORD, create_demo_roster
from roster.models import User
from studylog import capture as studylog_capture
from studylog.lrs import access as lrs_access
from tests.factories import (  # noqa: F401  (fixtures that return factories)
    placement_factory,
    school_class_factory,
    student_factory,
    teacher_factory,
)
from tests.mfa import pass_mfa
from tests.peers.faultproxy import fault_proxy  # noqa: F401  (faults in front of a real LRS)
from tests.peers.ralph import ralph_lrs  # noqa: F401  (a real LRS: Ralph, per test)
from tests.peers.saml_idp import saml_idp  # noqa: F401  (a real SAML IdP, per module)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "real_mfa: administrators signed in by Client.login/force_login do not pass MFA"
    )


@pytest.fixture(autouse=True)
def _administrators_pass_mfa(request: pytest.FixtureRequest, monkeypatch: Any) -> None:
    """An administrator signed in by ``Client.login``/``force_login`` has an authenticator and
    a session that passed MFA (tests/mfa.py), as after a real sign-in with a code; tests of
    MFA itself are marked ``real_mfa`` and get the plain sign-in."""
    if request.node.get_closest_marker("real_mfa"):
        return
    force_login, login = Client.force_login, Client.login

    def force_login_passing_mfa(self: Client, user: Any, backend: Any = None) -> None:
        force_login(self, user, backend)
        pass_mfa(self, user)

    def login_passing_mfa(self: Client, **credentials: Any) -> bool:
        ok = login(self, **credentials)
        if ok:
            from django.contrib.auth import SESSION_KEY

            pass_mfa(self, User.objects.get(pk=self.session[SESSION_KEY]))
        return ok

    monkeypatch.setattr(Client, "force_login", force_login_passing_mfa)
    monkeypatch.setattr(Client, "login", login_passing_mfa)


@pytest.fixture(autouse=True)
def _fresh_key_ring() -> None:
    """Each test sees the key table of its own database."""
    key_ring.invalidate()


@pytest.fixture(autouse=True)
def _fresh_config_cache() -> None:
    """The configuration cache is on in tests; each test starts it empty (a rolled-back test
    database can repeat a generation value another test's cache entries were read at). So does
    Django's cache: sign-in rate limits and tools' JWKS live there and must not carry over."""
    config_cache.clear()
    cache.clear()
    studylog_capture.cache.clear()
    lrs_access.clear_cache()


@pytest.fixture
def demo_tools_config(settings: Any, tmp_path: Path) -> Path:
    path = tmp_path / "demo_tools.json"
    settings.DEMO_TOOLS_CONFIG = path
    return path


@pytest.fixture
def demo_school(db: None, settings: Any, demo_tools_config: Path) -> dict[str, User]:
    """The demo roster and the three demo tools, registered against ``LTI_ISSUER``."""
    ensure_keys()  # a transactional test before this one may have flushed the keys
    create_demo_roster()
    register_demo_tools(settings.LTI_ISSUER, settings.LTI_ISSUER)
    return {u.username: u for u in User.objects.all()}


@pytest.fixture
def signed_in(client: Client) -> Callable[[str], Client]:
    def sign_in(username: str) -> Client:
        assert client.login(username=username, password=DEMO_PASSWORD)
        return client

    return sign_in
