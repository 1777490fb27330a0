"""`K8sAgent`: the k8s_agent, its read-only Kubernetes tools and a pluggable brain.

The built-in diagnostician is the default brain; an LLM tool loop plugs in the same way
(`run(message, registry)`), using the same tools.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

from helpdesk import infra
from helpdesk.agents.base import ToolRegistry
from helpdesk.agents.k8s.client import KubeAccess
from helpdesk.agents.k8s.diagnostician import K8sDiagnostician
from helpdesk.agents.k8s.registry import AGENT_NAME, build_registry
from helpdesk.result import AgentResult
from helpdesk.taxonomy import CATEGORIES, Domain

if TYPE_CHECKING:
    from helpdesk.llm.client import ModelClient
    from helpdesk.llm.loop import LoopSettings

# What an LLM may submit: the Kubernetes categories, or healthy.
K8S_CATEGORIES = [c.name for c in CATEGORIES if c.domain == Domain.KUBERNETES] + ["healthy"]

DESCRIPTION = (
    "Kubernetes expert: diagnoses crash-looping and OOM-killed containers, unschedulable pods, "
    "image pull failures, services without endpoints, pending volume claims, workloads scaled "
    "to zero, failing probes and missing Secrets/ConfigMaps, from pods, events, logs, services, "
    "endpoints, nodes, PVCs and workloads (read-only)."
)


class Brain(Protocol):
    """Whatever reasons over the tools: the built-in diagnostician or an LLM loop."""

    def run(self, message: str, registry: ToolRegistry) -> AgentResult: ...


class K8sAgent:
    """The Kubernetes expert agent (implements `helpdesk.agents.base.Agent`); never writes."""

    name = AGENT_NAME
    description = DESCRIPTION

    def __init__(
        self,
        brain: Brain | None = None,
        tools: ToolRegistry | None = None,
        access: KubeAccess | None = None,
    ) -> None:
        self.access = access or KubeAccess(infra=infra.load())
        self.tools = tools or build_registry(self.access)
        self.brain: Brain = brain or K8sDiagnostician(known_contexts=self._known_contexts)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> K8sAgent:
        """The agent as configured by HELPDESK_MODEL_* and HELPDESK_INFRA_CONFIG (SPEC §10).

        Raises LLMConfigError / InfraConfigError for bad settings.
        """
        from helpdesk.llm.config import load_model_config

        config = load_model_config(env)
        if env is None:
            access = KubeAccess(infra=infra.load())
        else:
            path = env.get(infra.ENV_VAR)
            access = KubeAccess(infra=infra.load(path) if path else None)
        if config.is_builtin:
            return cls(access=access)
        from helpdesk.llm.factory import create_client

        return cls(brain=llm_brain(create_client(config)), access=access)

    def _known_contexts(self) -> list[str]:
        aliases = [c.name for c in self.access.infra.k8s_clusters] if self.access.infra else []
        return [*self.access.contexts(), *aliases]

    def answer(self, message: str) -> AgentResult:
        return self.brain.run(message, self.tools)


def llm_brain(client: ModelClient, settings: LoopSettings | None = None) -> Brain:
    """The shared LLM tool loop with the k8s system prompt and the Kubernetes categories."""
    from helpdesk.llm.brain import load_prompt
    from helpdesk.llm.loop import ToolLoop

    return ToolLoop(client, load_prompt("k8s_agent"), settings, categories=K8S_CATEGORIES)
