"""`LLMBrain`: the seam between an agent and a model — a system prompt plus the tool loop.

An agent hands it the person's message and its `ToolRegistry`; it returns the SPEC §6
`AgentResult`. System prompts are package files under `helpdesk/prompts/`.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources

from helpdesk.agents.base import ToolRegistry
from helpdesk.llm.client import ModelClient
from helpdesk.llm.config import ModelConfig
from helpdesk.llm.loop import LoopSettings, ToolLoop
from helpdesk.result import AgentResult


def load_prompt(name: str) -> str:
    """The text of `helpdesk/prompts/<name>.md`."""
    path = resources.files("helpdesk").joinpath("prompts", f"{name}.md")
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"no system prompt named {name!r} in helpdesk/prompts") from None


class LLMBrain:
    """Answers a message by letting the model investigate with the agent's tools."""

    def __init__(
        self,
        client: ModelClient,
        system_prompt: str,
        settings: LoopSettings | None = None,
        categories: Iterable[str] | None = None,
    ) -> None:
        self.client = client
        self.system_prompt = system_prompt
        self.loop = ToolLoop(client, system_prompt, settings, categories)

    @classmethod
    def from_config(
        cls,
        config: ModelConfig,
        prompt: str = "database_agent",
        settings: LoopSettings | None = None,
        categories: Iterable[str] | None = None,
    ) -> LLMBrain:
        """A brain for the configured LLM vendor (not for `builtin`) with a packaged prompt."""
        from helpdesk.llm.factory import create_client

        return cls(create_client(config), load_prompt(prompt), settings, categories)

    def run(self, message: str, registry: ToolRegistry) -> AgentResult:
        return self.loop.run(message, registry)
