"""az CLI fixtures: the isolated ``azure-cli`` (installed on first use), skipped only when it
cannot be installed at all."""

from __future__ import annotations

from pathlib import Path

import pytest
from azcli_env import AzCliUnavailable, ensure_azcli


@pytest.fixture(scope="session")
def az_bin() -> Path:
    try:
        return ensure_azcli()
    except AzCliUnavailable as e:
        pytest.skip(f"azure-cli cannot be installed here: {e}")
