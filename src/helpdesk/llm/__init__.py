"""The model layer: configuration, one client per LLM vendor, and the shared tool loop.

Importing this package imports no vendor SDK; each is loaded when its client is built.
"""

from helpdesk.llm.brain import LLMBrain, load_prompt
from helpdesk.llm.client import ModelClient, ModelError, ModelTurn, RequestedCall, ToolSpec
from helpdesk.llm.config import LLMConfigError, ModelConfig, load_model_config
from helpdesk.llm.factory import create_client
from helpdesk.llm.loop import LoopSettings, ToolLoop
from helpdesk.llm.redact import SecretVault
from helpdesk.llm.retry import RetryPolicy
from helpdesk.llm.submission import SUBMIT_TOOL

__all__ = [
    "SUBMIT_TOOL",
    "LLMBrain",
    "LLMConfigError",
    "LoopSettings",
    "ModelClient",
    "ModelConfig",
    "ModelError",
    "ModelTurn",
    "RequestedCall",
    "RetryPolicy",
    "SecretVault",
    "ToolLoop",
    "ToolSpec",
    "create_client",
    "load_model_config",
    "load_prompt",
]
