"""The demo configuration for the task tests (``task_world.py`` holds their helpers)."""

from __future__ import annotations

import pytest
from task_world import demo_config

from provisioning.config import Config


@pytest.fixture(scope="session")
def config() -> Config:
    return demo_config()
