"""`--judge`: the rubric judge asked through the LLM that HELPDESK_MODEL_* configures.

The judge needs a real model; with none configured (the built-in diagnostician) `--judge`
is a usage error (exit 2) rather than a silent run without a judge.
"""

from __future__ import annotations

from collections.abc import Mapping

from faulttest.errors import UsageError
from faulttest.evaluate.judge import JudgeError, RubricJudge
from helpdesk.llm.config import LLMConfigError, load_model_config

JUDGE_TIMEOUT = 120.0
NEEDS_LLM = (
    "--judge needs an LLM, and none is configured: set HELPDESK_MODEL_VENDOR"
    " (anthropic, openai, gemini), HELPDESK_MODEL_NAME and HELPDESK_API_KEY"
    " (or HELPDESK_MODEL_BASE_URL for a local OpenAI-compatible server)"
)


def build_judge(env: Mapping[str, str] | None = None) -> RubricJudge:
    """A RubricJudge over the configured model; UsageError when there is none."""
    try:
        config = load_model_config(env)
    except LLMConfigError as exc:
        raise UsageError(f"--judge: model configuration: {exc}") from None
    if config.is_builtin:
        raise UsageError(NEEDS_LLM)
    from helpdesk.llm.client import ModelError, UserText
    from helpdesk.llm.factory import create_client

    client = create_client(config, max_retries=2)

    def complete(system: str, user: str) -> str:
        try:
            turn = client.step(system, [UserText(user)], [], JUDGE_TIMEOUT)
        except ModelError as exc:
            raise JudgeError(f"the judge ({config.vendor}/{config.name}) failed: {exc}") from None
        return turn.text

    return RubricJudge(complete, f"{config.vendor}/{config.name}")
