"""LLMBrain end to end from configuration, the packaged prompt, and lazy SDK imports."""

from __future__ import annotations

import subprocess
import sys

import pytest

from helpdesk.llm import LLMBrain, LLMConfigError, create_client, load_model_config, load_prompt
from helpdesk.llm.submission import SUBMIT_TOOL
from tests.fakes.vendor import Call
from tests.llm.conftest import FAST


def test_brain_from_environment_settings(fake, serve, target, registry):
    script = [
        fake.tool_turn(Call("check_connection", {"connection_string": target.masked})),
        fake.tool_turn(
            Call(
                SUBMIT_TOOL,
                {
                    "category": "healthy",
                    "summary": "Connections work.",
                    "confidence": 0.7,
                    "evidence": ["check_connection: connected to testdb"],
                    "recommended_actions": [],
                },
            )
        ),
    ]
    with serve(script) as server:
        base_url = f"{server.url}/v1" if fake.vendor == "openai" else server.url
        config = load_model_config(
            {
                "HELPDESK_MODEL_VENDOR": fake.vendor,
                "HELPDESK_MODEL_NAME": fake.model,
                "HELPDESK_API_KEY": "key-from-env",
                "HELPDESK_MODEL_BASE_URL": base_url,
            }
        )
        brain = LLMBrain.from_config(config, settings=FAST)
        result = brain.run(f"Is {target.dsn} OK?", registry)

    assert result.status == "diagnosed" and result.diagnosis.category == "healthy"
    first = server.model_requests[0]
    assert "key-from-env" in str(first.headers)  # the configured key is what authenticates
    assert "connectivity first" in first.raw.lower()  # the packaged system prompt was sent


def test_builtin_has_no_model_client():
    with pytest.raises(LLMConfigError):
        create_client(load_model_config({}))


def test_database_prompt_is_written_for_the_task():
    prompt = load_prompt("database_agent")
    for must in (
        "submit_diagnosis",
        "Connectivity first",
        "Never invent values",
        "Inspect before any change",
        "passwords",
    ):
        assert must.lower() in prompt.lower()
    for never in ("faulttest", "fixture", "catalog", "db-max-connections", "inject"):
        assert never not in prompt.lower()


def test_importing_the_model_layer_loads_no_sdk():
    code = (
        "import sys, helpdesk.llm, helpdesk.llm.loop, helpdesk.llm.brain;"
        "sdks = ('anthropic', 'openai', 'google.genai', 'httpx2');"
        "print(sorted(m for m in sdks if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
