"""Fixtures for interoperability tests: the platform served by a live server."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache

from demo_tools.setup import register_demo_tools
from lti_platform.keys import ensure_keys
from roster.demo import create_demo_roster


@pytest.fixture
def platform(live_server: Any, settings: Any, demo_tools_config: Any) -> str:
    settings.LTI_ISSUER = live_server.url
    ensure_keys()
    create_demo_roster()
    register_demo_tools(live_server.url, live_server.url)
    cache.clear()
    return str(live_server.url)
