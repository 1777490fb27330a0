"""Build the database agent with the brain the configuration asks for (SPEC §10).

`builtin` (the default without an API key) uses the deterministic diagnostician; any
LLM vendor uses the shared tool loop with the packaged database-agent prompt.
"""

from __future__ import annotations

from collections.abc import Mapping

from helpdesk.agents.database.agent import DatabaseAgent
from helpdesk.llm.config import load_model_config


def create_agent(env: Mapping[str, str] | None = None) -> DatabaseAgent:
    """The database agent for this environment; raises LLMConfigError on bad settings."""
    config = load_model_config(env)
    if config.vendor == "builtin":
        return DatabaseAgent()
    from helpdesk.llm.brain import LLMBrain

    return DatabaseAgent(brain=LLMBrain.from_config(config))
