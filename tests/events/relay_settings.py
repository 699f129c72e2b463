"""Settings of the ``manage.py run_event_relay`` processes of tests/events/test_relay.py: the
test settings, the caller's test database (MANABI_SQLITE_PATH) and one "once" subscriber."""

from config.settings.test import *  # noqa: F403

from .subscribers import FILE_SUBSCRIBERS

EVENT_SUBSCRIBERS = FILE_SUBSCRIBERS
EVENT_RELAY_POLL_SECONDS = 0.05
EVENT_RELAY_BATCH_SIZE = 1
