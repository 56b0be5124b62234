"""One mock run per committed stack for the whole session: the program is deterministic, runs are not free."""

from __future__ import annotations

import pytest

from config.stack import StackConfig
from infra.offline.mocks import Run
from tests.infra.fleet import run_stack


@pytest.fixture(scope="session")
def dev() -> tuple[StackConfig, Run]:
    """The dev stack (GKE: T4 on COS, L4 on Ubuntu, A100, a CPU pool)."""
    return run_stack("dev")


@pytest.fixture(scope="session")
def home() -> tuple[StackConfig, Run]:
    """The home stack (an existing cluster: K80, M40 with a user taint, L4)."""
    return run_stack("home")


@pytest.fixture(scope="session")
def hybrid() -> tuple[StackConfig, Run]:
    """The hybrid stack (GKE: T4 and L4, plus two external rigs: a K80 by IP with a private CA, a Radeon by name)."""
    return run_stack("hybrid")
