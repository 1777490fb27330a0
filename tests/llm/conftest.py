"""Fixtures for the model-layer tests: each vendor's fake API with the real SDK, the lab tools."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from faulttest.lab import Lab
from helpdesk.agents.base import ToolRegistry
from helpdesk.dsn import mask
from helpdesk.llm.loop import LoopSettings, ToolLoop
from helpdesk.llm.retry import RetryPolicy
from tests.fakes.anthropic_api import AnthropicFake
from tests.fakes.gemini_api import GeminiFake
from tests.fakes.llm_server import Reply, ScriptedLLMServer
from tests.fakes.openai_api import OpenAIFake
from tests.fakes.vendor import VendorFake
from tests.llm.pg_tools import pg_registry

FAST = LoopSettings(
    max_steps=6,
    call_timeout=10.0,
    overall_timeout=60.0,
    retry=RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.5),
)


@pytest.fixture(
    params=[AnthropicFake, OpenAIFake, GeminiFake], ids=["anthropic", "openai", "gemini"]
)
def fake(request: pytest.FixtureRequest) -> VendorFake:
    return request.param()


@dataclass(frozen=True)
class Target:
    """The lab as a person hands it to the agent: real DSNs, and what the model may see."""

    dsn: str
    replica_dsn: str
    password: str

    @property
    def masked(self) -> str:
        return mask(self.dsn)

    @property
    def masked_replica(self) -> str:
        return mask(self.replica_dsn)


@pytest.fixture(scope="session")
def target(lab: Lab) -> Target:
    info = lab.info
    assert info.replica_dsn is not None
    return Target(info.dsn, info.replica_dsn, info.password)


@pytest.fixture
def registry(target: Target) -> ToolRegistry:
    return pg_registry()


@pytest.fixture
def serve(fake: VendorFake, target: Target) -> Callable[[list[Reply]], Iterator[ScriptedLLMServer]]:
    """`with serve(replies) as server:` a scripted fake of the vendor API that rejects passwords."""

    @contextmanager
    def _serve(
        replies: list[Reply], also_forbidden: tuple[str, ...] = ()
    ) -> Iterator[ScriptedLLMServer]:
        server = ScriptedLLMServer(
            replies,
            validator=fake.validate,
            forbidden=(target.password, *also_forbidden),
            error_body=fake.error_body,
        )
        with server:
            yield server
        assert server.violations == [], "a password reached the model"
        assert server.problems == [], f"the fake API rejected a request: {server.problems}"

    return _serve


def make_loop(
    fake: VendorFake, server: ScriptedLLMServer, settings: LoopSettings = FAST
) -> ToolLoop:
    return ToolLoop(fake.client(server.url), "You are a PostgreSQL expert.", settings)
