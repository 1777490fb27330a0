"""Build the k8s agent as the environment configures it (model vendor, infrastructure config)."""

from __future__ import annotations

from collections.abc import Mapping

from helpdesk.agents.k8s.agent import K8sAgent


def create_agent(env: Mapping[str, str] | None = None) -> K8sAgent:
    """The k8s agent for this environment; raises LLMConfigError / InfraConfigError."""
    return K8sAgent.from_env(env)
