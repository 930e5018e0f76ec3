"""``worker_ping`` with no worker running says so plainly instead of hanging or crashing."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command


def test_it_says_no_worker_answered():
    with pytest.raises(CommandError, match=r"No worker answered on queue 'gpu' within 0.5 s"):
        call_command("worker_ping", "--queue", "gpu", "--timeout", "0.5")
