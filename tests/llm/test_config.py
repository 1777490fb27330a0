"""HELPDESK_MODEL_* settings: defaults, each vendor, and one clear error for bad settings."""

from __future__ import annotations

import pytest

from helpdesk.llm.config import PLACEHOLDER_KEY, LLMConfigError, load_model_config


def test_no_settings_means_builtin():
    config = load_model_config({})
    assert config.vendor == "builtin" and config.is_builtin


def test_builtin_ignores_a_key():
    config = load_model_config({"HELPDESK_MODEL_VENDOR": "builtin", "HELPDESK_API_KEY": "k"})
    assert config.is_builtin


@pytest.mark.parametrize("vendor", ["anthropic", "openai", "gemini", "ANTHROPIC"])
def test_llm_vendor_with_name_and_key(vendor):
    env = {
        "HELPDESK_MODEL_VENDOR": vendor,
        "HELPDESK_MODEL_NAME": "m",
        "HELPDESK_API_KEY": "secret-key",
    }
    config = load_model_config(env)
    assert config.vendor == vendor.lower() and config.name == "m" and config.api_key == "secret-key"
    assert "secret-key" not in repr(config) and "secret-key" not in config.describe()


def test_local_openai_compatible_server_needs_no_key():
    env = {
        "HELPDESK_MODEL_VENDOR": "openai",
        "HELPDESK_MODEL_NAME": "llama3.1:8b",
        "HELPDESK_MODEL_BASE_URL": "http://localhost:11434/v1",
    }
    config = load_model_config(env)
    assert config.base_url == "http://localhost:11434/v1" and config.api_key == PLACEHOLDER_KEY


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"HELPDESK_API_KEY": "k"}, "HELPDESK_MODEL_VENDOR is not"),
        ({"HELPDESK_MODEL_BASE_URL": "http://x/v1"}, "HELPDESK_MODEL_VENDOR is not"),
        ({"HELPDESK_MODEL_VENDOR": "mistral"}, "not supported"),
        (
            {"HELPDESK_MODEL_VENDOR": "anthropic", "HELPDESK_API_KEY": "k"},
            "HELPDESK_MODEL_NAME is not set",
        ),
        (
            {"HELPDESK_MODEL_VENDOR": "gemini", "HELPDESK_MODEL_NAME": "g"},
            "HELPDESK_API_KEY is not set",
        ),
        (
            {"HELPDESK_MODEL_VENDOR": "openai", "HELPDESK_MODEL_NAME": "g"},
            "HELPDESK_MODEL_BASE_URL for a local",
        ),
        (
            {
                "HELPDESK_MODEL_VENDOR": "openai",
                "HELPDESK_MODEL_NAME": "g",
                "HELPDESK_MODEL_BASE_URL": "localhost:11434",
            },
            "not an http(s) URL",
        ),
    ],
)
def test_bad_settings_raise_one_clear_error(env, fragment):
    with pytest.raises(LLMConfigError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        load_model_config(env)


def test_all_problems_in_one_message():
    with pytest.raises(LLMConfigError) as info:
        load_model_config({"HELPDESK_MODEL_VENDOR": "anthropic"})
    assert "HELPDESK_MODEL_NAME" in str(info.value) and "HELPDESK_API_KEY" in str(info.value)
