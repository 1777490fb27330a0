"""Model configuration from the environment (SPEC §10): which vendor, model, key and URL.

Pure: reads a mapping (normally `os.environ`) and either returns a `ModelConfig` or
raises one `LLMConfigError` that says what is wrong and how to fix it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

VENDOR_VAR = "HELPDESK_MODEL_VENDOR"
NAME_VAR = "HELPDESK_MODEL_NAME"
KEY_VAR = "HELPDESK_API_KEY"
BASE_URL_VAR = "HELPDESK_MODEL_BASE_URL"

BUILTIN = "builtin"
LLM_VENDORS = ("anthropic", "openai", "gemini")
VENDORS = (*LLM_VENDORS, BUILTIN)

# A local OpenAI-compatible server (Ollama, vLLM, llama.cpp, LM Studio) ignores the key,
# but the SDK insists on one.
PLACEHOLDER_KEY = "not-needed"

_NAME_EXAMPLES = {
    "anthropic": "claude-haiku-4-5",
    "openai": "gpt-4.1-mini (or a local model such as llama3.1:8b)",
    "gemini": "gemini-2.5-flash",
}


class LLMConfigError(ValueError):
    """The model settings are missing or contradict each other (one message, start-up time)."""


@dataclass(frozen=True)
class ModelConfig:
    vendor: str = BUILTIN
    name: str = ""
    api_key: str = field(default="", repr=False)  # never printed
    base_url: str | None = None

    @property
    def is_builtin(self) -> bool:
        return self.vendor == BUILTIN

    def describe(self) -> str:
        """A safe one-line description for logs (no key)."""
        where = f" at {self.base_url}" if self.base_url else ""
        return f"vendor={self.vendor} model={self.name or '-'}{where}"


def load_model_config(env: Mapping[str, str] | None = None) -> ModelConfig:
    """Read HELPDESK_MODEL_* and HELPDESK_API_KEY; raise LLMConfigError when they do not fit."""
    env = os.environ if env is None else env
    vendor = env.get(VENDOR_VAR, "").strip().lower()
    name = env.get(NAME_VAR, "").strip()
    key = env.get(KEY_VAR, "").strip()
    base_url = env.get(BASE_URL_VAR, "").strip() or None

    if not vendor:
        if key or base_url:
            raise LLMConfigError(
                f"{KEY_VAR if key else BASE_URL_VAR} is set but {VENDOR_VAR} is not: set "
                f"{VENDOR_VAR} to one of {', '.join(LLM_VENDORS)} (or unset it to use the "
                "built-in diagnostician)"
            )
        return ModelConfig(name=name)
    if vendor not in VENDORS:
        raise LLMConfigError(
            f"{VENDOR_VAR}={vendor!r} is not supported; use one of {', '.join(VENDORS)}"
        )
    if vendor == BUILTIN:
        return ModelConfig(name=name)
    _check_llm_settings(vendor, name, key, base_url)
    return ModelConfig(vendor=vendor, name=name, api_key=key or PLACEHOLDER_KEY, base_url=base_url)


def _check_llm_settings(vendor: str, name: str, key: str, base_url: str | None) -> None:
    problems: list[str] = []
    if not name:
        problems.append(f"{NAME_VAR} is not set (e.g. {_NAME_EXAMPLES[vendor]})")
    if not key and not (vendor == "openai" and base_url):
        hint = (
            f", or set {BASE_URL_VAR} for a local OpenAI-compatible server"
            if vendor == "openai"
            else ""
        )
        problems.append(f"{KEY_VAR} is not set{hint}")
    if base_url and not base_url.startswith(("http://", "https://")):
        problems.append(f"{BASE_URL_VAR}={base_url!r} is not an http(s) URL")
    if problems:
        raise LLMConfigError(f"{VENDOR_VAR}={vendor}: " + "; ".join(problems))
