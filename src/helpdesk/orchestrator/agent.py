"""`Orchestrator`: the helpdesk_orchestrator agent that delegates to the expert agents over A2A.

With the built-in vendor it routes by rule and merges the experts' results by rule; with a
model configured, the model delegates through `delegate_to_<agent>` tools in the shared
ToolLoop. Infrastructure aliases are expanded only in what goes to the experts.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from helpdesk import infra as infralib
from helpdesk.a2a.client import DEFAULT_TIMEOUT, AgentError, ask_sync
from helpdesk.agents.base import ToolOutput, ToolRegistry
from helpdesk.dsn import mask
from helpdesk.infra import InfraConfig
from helpdesk.llm import LoopSettings, ModelClient, SecretVault, ToolLoop, load_prompt
from helpdesk.llm.config import ModelConfig, load_model_config
from helpdesk.logfmt import fields
from helpdesk.orchestrator.discovery import (
    DATABASE,
    K8S,
    ROLES,
    AgentInfo,
    Roster,
    agent_urls,
    discover,
)
from helpdesk.orchestrator.routing import (
    ORCHESTRATOR_NAME,
    RoutePlan,
    delegation_tools,
    mentioned_db_servers,
    rule_route,
)
from helpdesk.orchestrator.synthesis import (
    Delegation,
    merge_diagnoses,
    merge_traces,
    sum_usage,
    synthesize,
)
from helpdesk.result import AgentResult, ModelInfo

log = logging.getLogger("helpdesk.orchestrator")

DESCRIPTION = (
    "aiHelpDesk orchestrator: takes a problem report, delegates to the PostgreSQL, Kubernetes "
    "and incident expert agents over A2A, and answers with one merged diagnosis."
)

Ask = Callable[[str, str, float], AgentResult]

_DSN_RUN = re.compile(
    r"(?:\b(?:host|hostaddr|port|dbname|user|password|sslmode|connect_timeout|"
    r"application_name|options)\s*=\s*[^\s`'\"]+\s*)+",
    re.IGNORECASE,
)
_URI = re.compile(r"\bpostgres(?:ql)?://[^\s`'\"<>]+", re.IGNORECASE)


def _ask(url: str, message: str, timeout: float) -> AgentResult:
    return ask_sync(url, message, timeout=timeout)


@dataclass
class Orchestrator:
    """Implements `helpdesk.agents.base.Agent`; servable over A2A like any expert agent."""

    roster: Roster
    infra: InfraConfig | None = None
    client: ModelClient | None = None  # None: built-in routing and synthesis
    ask: Ask = _ask
    timeout: float = DEFAULT_TIMEOUT
    settings: LoopSettings = field(default_factory=LoopSettings)
    name: str = ORCHESTRATOR_NAME
    description: str = DESCRIPTION

    # The delegation tools, one per available agent: the card's skills and /tool/NAME.
    tools: ToolRegistry = field(init=False)

    def __post_init__(self) -> None:
        self.refresh_tools()

    def refresh_tools(self) -> None:
        self.tools = delegation_tools(self.roster.available, self._delegate_tool)

    @property
    def model_info(self) -> ModelInfo:
        if self.client is None:
            return ModelInfo(vendor="builtin", name="rules")
        return ModelInfo(vendor=self.client.vendor, name=self.client.model)

    # -- answering -------------------------------------------------------------------

    def answer(self, message: str) -> AgentResult:
        if not self.roster.available:
            self.roster.retry()
            self.refresh_tools()
        if self.client is None or not self.roster.available:
            return self._answer_by_rules(message)  # with no expert, the model has no tools
        return self._answer_with_model(message)

    def ask_agent(self, agent: AgentInfo, message: str) -> AgentResult:
        """Ask one expert directly (aliases expanded); raises AgentError when that fails."""
        return self.ask(agent.url, self.brief_for(agent, message), self.timeout)

    def _answer_by_rules(self, message: str) -> AgentResult:
        plan = rule_route(message, self.infra)
        log.info("routing", extra=fields(agents=",".join(plan.roles), reason=plan.reason))
        targets, notes = self._targets(plan)
        with ThreadPoolExecutor(max_workers=max(1, len(targets))) as pool:
            delegations = list(
                pool.map(lambda a: self._delegate(a, self.brief_for(a, message)), targets)
            )
        model = next(
            (r.model for d in delegations if (r := d.result) and r.model.vendor != "unknown"),
            self.model_info,
        )
        return synthesize(delegations, model, notes)

    def _targets(self, plan: RoutePlan) -> tuple[list[AgentInfo], list[str]]:
        """The agents for the plan's roles; a missing one becomes a note, never an error."""
        targets: list[AgentInfo] = []
        notes: list[str] = []
        for role in plan.roles:
            agent = self.roster.by_role(role)
            if agent is None and (agent := self.roster.retry(role)) is not None:
                self.refresh_tools()
            if agent is not None:
                targets.append(agent)
                continue
            gone = self.roster.missing(role)
            where = f" ({gone.url})" if gone else ""
            notes.append(
                f"{ROLES[role].agent_name}{where} is unavailable, so this was not checked: "
                f"{ROLES[role].capabilities}."
            )
        return targets, notes

    def _answer_with_model(self, message: str) -> AgentResult:
        assert self.client is not None
        delegations: list[Delegation] = []
        vault = SecretVault()
        vault.hide(message)  # learn the person's passwords to restore them for the experts

        def delegate(agent: AgentInfo, brief: str) -> ToolOutput:
            restored = _restore_passwords(brief, vault)
            delegation = self._delegate(agent, self.brief_for(agent, restored))
            delegations.append(delegation)
            return _tool_output(delegation)

        registry = delegation_tools(self.roster.available, delegate)
        loop = ToolLoop(self.client, self._system_prompt(), self.settings)
        own = loop.run(message, registry)
        return self._combine(own, delegations)

    def _combine(self, own: AgentResult, delegations: list[Delegation]) -> AgentResult:
        """The model's answer plus the experts' traces and usage; rule merge as a fallback."""
        diagnosis = own.diagnosis
        text = own.text
        if diagnosis is None and delegations:
            diagnosis = merge_diagnoses(delegations)
            if diagnosis is not None:
                text += (
                    "\n\n_The orchestrator's model did not conclude; the experts' diagnoses "
                    f"were merged by rule: `{diagnosis.category}`._"
                )
        for d in delegations:
            body = d.result.text.strip() if d.result else f"Could not answer: {d.error}"
            text += f"\n\n### {d.agent}\n\n{body}"
        extras = dict(own.model_extra or {})
        return AgentResult.model_validate(
            {
                **extras,
                "text": text,
                "diagnosis": diagnosis,
                "tool_calls": [*own.tool_calls, *merge_traces(delegations)],
                "model": own.model,
                "usage": sum_usage(delegations, own.usage),
                "agents": [
                    {"agent": d.agent, "url": d.url, "ok": d.result is not None, "error": d.error}
                    for d in delegations
                ],
            }
        )

    # -- delegation ------------------------------------------------------------------

    def _delegate_tool(self, agent: AgentInfo, message: str) -> ToolOutput:
        return _tool_output(self._delegate(agent, self.brief_for(agent, message)))

    def _delegate(self, agent: AgentInfo, message: str) -> Delegation:
        """Ask one expert over A2A; any failure is recorded, never raised."""
        log.info("delegating", extra=fields(agent=agent.name, url=agent.url))
        started = time.perf_counter()
        delegation = Delegation(agent=agent.name, role=agent.role, url=agent.url)
        try:
            delegation.result = self.ask(agent.url, message, self.timeout)
        except AgentError as exc:
            delegation.error = mask(str(exc))
        except Exception as exc:  # an unexpected client failure must not end the answer
            delegation.error = mask(f"{type(exc).__name__}: {exc}")
        category = delegation.diagnosis.category if delegation.diagnosis else "-"
        log.log(
            logging.INFO if delegation.error is None else logging.WARNING,
            "delegation finished",
            extra=fields(
                agent=agent.name,
                category=category,
                duration_ms=int((time.perf_counter() - started) * 1000),
                **({"error": delegation.error} if delegation.error else {}),
            ),
        )
        return delegation

    def brief_for(self, agent: AgentInfo, message: str) -> str:
        """The message for one expert: aliases expanded, Kubernetes placement added."""
        if self.infra is None:
            return message
        servers = mentioned_db_servers(message, self.infra)
        if agent.role == K8S:
            hints = [_placement(self.infra, name) for name in servers]
            hints = [h for h in hints if h]
            return message if not hints else message + "\n\n" + "\n".join(hints)
        if agent.role == DATABASE:
            for name in servers:
                message = _expand_alias(message, self.infra, name)
        return message

    def _system_prompt(self) -> str:
        lines = [load_prompt("orchestrator"), "", "## Expert agents available now"]
        lines += [f"- {a.name}: {a.description}" for a in self.roster.available] or ["- none"]
        if self.roster.unavailable:
            lines += ["", "## Expert agents that are unavailable"]
            lines += [f"- {u.expected_name}: {u.capabilities}" for u in self.roster.unavailable]
        if self.infra is not None:
            lines += ["", "## Known infrastructure (aliases the person may use)"]
            lines += [
                f"- database `{s.name}`: {mask(s.connection_string)}"
                + (f" — {s.description}" if s.description else "")
                + (f" (Kubernetes context {s.k8s_cluster})" if s.k8s_cluster else "")
                for s in self.infra.db_servers
            ]
            lines += [
                f"- Kubernetes cluster `{c.name}`: context {c.context}"
                for c in self.infra.k8s_clusters
            ]
        return "\n".join(lines)


def _tool_output(delegation: Delegation) -> ToolOutput:
    """What the orchestrator's model sees of an expert's answer."""
    if delegation.result is None:
        text = f"error: {delegation.agent} could not answer: {delegation.error}"
        return ToolOutput(text=text, ok=False)
    result = delegation.result
    used = ", ".join(
        dict.fromkeys(f"{c.tool}{'' if c.ok else ' (failed)'}" for c in result.tool_calls)
    )
    lines = [f"Answer from {delegation.agent}:", result.text.strip()]
    if result.diagnosis is not None:
        lines.append(f"Structured diagnosis: {result.diagnosis.model_dump_json()}")
    lines.append(f"Tools it used: {used or 'none'}")
    return ToolOutput(text="\n".join(lines), data=result.model_dump(mode="json"))


def _restore_passwords(text: str, vault: SecretVault) -> str:
    """Put the person's real passwords back into DSNs the model wrote with `****`."""

    def restore(match: re.Match[str]) -> str:
        run = match.group(0)
        stripped = run.rstrip()
        core = stripped.rstrip(".,;:)]}")
        return vault.restore(core) + run[len(core) :]

    return _URI.sub(restore, _DSN_RUN.sub(restore, text))


def _expand_alias(message: str, infra: InfraConfig, name: str) -> str:
    """Replace an alias by its DSN when this process knows the full DSN (password included)."""
    server = infra.db_server(name)
    if server is None:
        return message
    dsn = server.dsn()
    if "password=" not in dsn and "@" not in dsn.split("//")[-1].split("/")[0]:
        return message  # no password here: the expert resolves the alias with its own config
    pattern = re.compile(rf"(?<![\w=-]){re.escape(name)}(?![\w-])")
    return pattern.sub(lambda _: f"{name} (connection string `{dsn}`)", message)


def _placement(infra: InfraConfig, name: str) -> str:
    server = infra.db_server(name)
    if server is None or not server.k8s_cluster:
        return ""
    cluster = infra.k8s_cluster(server.k8s_cluster)
    context = cluster.context if cluster else server.k8s_cluster
    where = f", namespace {server.k8s_namespace}" if server.k8s_namespace else ""
    return f"The database {name} runs in Kubernetes (context `{context}`{where})."


def build_orchestrator(
    env: Mapping[str, str] | None = None,
    urls: list[str] | None = None,
    client: ModelClient | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Orchestrator:
    """Discover the agents, load the model and infrastructure config, log like aiHelpDesk.

    Raises LLMConfigError / InfraConfigError for bad settings; unreachable agents are not
    errors. `client` overrides the configured model client (tests, embedding).
    """
    roster = discover(urls if urls is not None else agent_urls(env))
    config = load_model_config(env)
    if client is None and not config.is_builtin:
        from helpdesk.llm import create_client

        client = create_client(config)
    _log_model(config, client)
    infra = _load_infra(env)
    for line in roster.describe_missing():
        log.warning("capability missing", extra=fields(detail=line))
    log.info("orchestrator initialized", extra=fields(available_agents=len(roster.available)))
    return Orchestrator(roster=roster, infra=infra, client=client, timeout=timeout)


def _log_model(config: ModelConfig, client: ModelClient | None) -> None:
    if client is not None:
        log.info("using model", extra=fields(vendor=client.vendor, model=client.model))
    else:
        log.info("using model", extra=fields(vendor=config.vendor, model=config.name or "rules"))


def _load_infra(env: Mapping[str, str] | None) -> InfraConfig | None:
    path = (os.environ if env is None else env).get(infralib.ENV_VAR, "")
    infra = infralib.load(path) if path else None
    if infra is not None:
        log.info(
            "infrastructure config loaded",
            extra=fields(
                db_servers=len(infra.db_servers),
                k8s_clusters=len(infra.k8s_clusters),
                vms=len(infra.vms),
            ),
        )
    return infra
