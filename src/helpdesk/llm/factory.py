"""Build the `ModelClient` a `ModelConfig` names; each vendor SDK is imported here, on use."""

from __future__ import annotations

from helpdesk.llm.client import ModelClient
from helpdesk.llm.config import LLMConfigError, ModelConfig


def create_client(config: ModelConfig, *, max_retries: int = 0) -> ModelClient:
    """A client for an LLM vendor (the tool loop retries, so the SDK's own retries default off)."""
    if config.vendor == "anthropic":
        from helpdesk.llm.anthropic_client import AnthropicClient

        return AnthropicClient(
            config.name, config.api_key, base_url=config.base_url, max_retries=max_retries
        )
    if config.vendor == "openai":
        from helpdesk.llm.openai_client import OpenAIClient

        return OpenAIClient(
            config.name, config.api_key, base_url=config.base_url, max_retries=max_retries
        )
    if config.vendor == "gemini":
        from helpdesk.llm.gemini_client import GeminiClient

        return GeminiClient(config.name, config.api_key, base_url=config.base_url)
    raise LLMConfigError(
        f"vendor {config.vendor!r} has no model client (the built-in one needs none)"
    )
