"""Kubernetes API access for the k8s agent: kubeconfig loading and context selection like kubectl.

The kubeconfig comes from an explicit path, else $KUBECONFIG (several files joined with
`:` are merged, the first definition wins), else `~/.kube/config`, else the in-cluster
service account. A context is the tool's `context` argument (or a cluster alias from the
infrastructure config's `k8s_clusters`), else the kubeconfig's current context.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx2
import msgspec
import yaml
from lightkube import ApiError, Client, operators
from lightkube.config.kubeconfig import KubeConfig, SingleConfig
from lightkube.core.exceptions import ConfigError
from lightkube.core.resource import NamespacedResource
from lightkube.resources.core_v1 import PodLog

from helpdesk.agents.base import ToolError
from helpdesk.infra import InfraConfig

DEFAULT_KUBECONFIG = "~/.kube/config"
DEFAULT_TIMEOUT = 10.0
MAX_LOG_BYTES = 256 * 1024

T = TypeVar("T")


class KubeError(ToolError):
    """The Kubernetes API could not be used; the message says why and what to check."""


@dataclass
class KubeSession:
    """A lightkube client bound to one context, plus the namespace a tool should use."""

    client: Client
    context: str
    server: str
    namespace: str

    def list_objects(
        self, resource: Any, labels: str = "", fields: dict[str, str] | None = None
    ) -> list[dict[str, Any]]:
        """Objects of a kind as API dicts (in the session's namespace when namespaced)."""
        kwargs: dict[str, Any] = {}
        if issubclass(resource, NamespacedResource):
            kwargs["namespace"] = self.namespace
        if labels:
            kwargs["labels"] = parse_label_selector(labels)
        if fields:
            kwargs["fields"] = fields
        found: Any = self.client.list(resource, **kwargs)
        return [obj.to_dict() for obj in found]

    def get_object(self, resource: Any, name: str) -> dict[str, Any]:
        """One object as an API dict."""
        namespace = self.namespace if issubclass(resource, NamespacedResource) else None
        found: Any = self.client.get(resource, name, namespace=namespace)
        return dict(found.to_dict())

    def read_log(
        self,
        pod: str,
        container: str | None = None,
        previous: bool = False,
        tail_lines: int = 50,
        limit_bytes: int = MAX_LOG_BYTES,
    ) -> list[str]:
        """The pod's log lines (the previous container instance's with `previous`), bounded.

        lightkube's `Client.log` has no `previous` flag, so this builds the same request
        through its generic client with the extra query parameters.
        """
        generic = self.client._client  # noqa: SLF001 - see docstring
        request = generic.prepare_request(
            "get",
            PodLog,
            name=pod,
            namespace=self.namespace,
            params={
                "container": container,
                "previous": "true" if previous else None,
                "tailLines": tail_lines,
                "limitBytes": limit_bytes,
            },
        )
        response = generic.send(generic.build_adapter_request(request))
        generic.raise_for_status(response)
        return response.text.splitlines()


@dataclass
class KubeAccess:
    """Opens sessions on the contexts of one kubeconfig; clients are cached per context."""

    kubeconfig: str | Path | None = None
    infra: InfraConfig | None = None
    timeout: float = DEFAULT_TIMEOUT
    _config: KubeConfig | None = field(default=None, repr=False)
    _clients: dict[str, Client] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def config(self) -> KubeConfig:
        if self._config is None:
            self._config = load_kubeconfig(self.kubeconfig)
        return self._config

    def contexts(self) -> list[str]:
        return sorted(self.config().contexts)

    def resolve_context(self, context: str | None) -> tuple[str, str | None]:
        """(context name, namespace from an infra alias) for a tool's `context` argument."""
        wanted = (context or "").strip()
        namespace = None
        if wanted and self.infra is not None:
            cluster = self.infra.k8s_cluster(wanted)
            if cluster is not None:
                wanted, namespace = cluster.context, cluster.namespace
        if not wanted:
            current = self.config().current_context
            if not current:
                raise KubeError(
                    "no Kubernetes context given and the kubeconfig has no current-context; "
                    f"pass `context` (one of: {', '.join(self.contexts()) or 'none'})"
                )
            wanted = current
        if wanted not in self.config().contexts:
            raise KubeError(
                f"Kubernetes context {wanted!r} is not in the kubeconfig; "
                f"known contexts: {', '.join(self.contexts()) or 'none'}"
            )
        return wanted, namespace

    def session(self, context: str | None = None, namespace: str | None = None) -> KubeSession:
        name, alias_namespace = self.resolve_context(context)
        single = self._single(name)
        client = self._client(name, single)
        ns = (namespace or "").strip() or alias_namespace or single.namespace
        return KubeSession(client=client, context=name, server=single.cluster.server, namespace=ns)

    def run(
        self,
        context: str | None,
        namespace: str | None,
        body: Callable[[KubeSession], T],
    ) -> T:
        """Run `body` with a session, turning client and HTTP failures into `KubeError`."""
        session = self.session(context, namespace)
        try:
            return body(session)
        except ApiError as exc:
            raise KubeError(describe_api_error(exc, session)) from None
        except httpx2.TimeoutException:
            raise KubeError(
                f"the Kubernetes API server {session.server} (context {session.context}) did not "
                f"answer within {self.timeout:.0f} s"
            ) from None
        except httpx2.TransportError as exc:
            raise KubeError(
                f"cannot reach the Kubernetes API server {session.server} (context "
                f"{session.context}): {exc or type(exc).__name__}; check that the cluster is up "
                "and the kubeconfig points at it"
            ) from None
        except httpx2.HTTPStatusError as exc:
            raise KubeError(
                f"the Kubernetes API server {session.server} (context {session.context}) "
                f"answered HTTP {exc.response.status_code} without a Kubernetes status: is it "
                "behind a proxy?"
            ) from None
        except msgspec.ValidationError as exc:
            raise KubeError(
                f"unexpected object from the Kubernetes API (context {session.context}): {exc}"
            ) from None

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()

    def _single(self, context: str) -> SingleConfig:
        try:
            single = self.config().get(context)
        except (ConfigError, KeyError) as exc:
            raise KubeError(f"kubeconfig context {context!r} is incomplete: {exc}") from None
        assert single is not None
        return single

    def _client(self, context: str, single: SingleConfig) -> Client:
        with self._lock:
            client = self._clients.get(context)
            if client is None:
                try:
                    client = Client(
                        single, timeout=httpx2.Timeout(self.timeout), field_manager="helpdesk"
                    )
                except (ConfigError, OSError, AssertionError) as exc:
                    raise KubeError(f"cannot use Kubernetes context {context!r}: {exc}") from None
                self._clients[context] = client
            return client


def describe_api_error(exc: ApiError, session: KubeSession) -> str:
    code = exc.status.code or exc.response.status_code
    message = exc.status.message or str(exc)
    where = f"(context {session.context}, namespace {session.namespace})"
    if code == 401:
        return f"the Kubernetes API server rejected the credentials {where}: {message}"
    if code == 403:
        return f"not allowed by the Kubernetes API (RBAC) {where}: {message}"
    return f"Kubernetes API error {code} {where}: {message}"


def parse_label_selector(text: str) -> dict[str, Any]:
    """`app=web,tier!=db,canary` in lightkube's selector form (equality terms only)."""
    selector: dict[str, Any] = {}
    for term in filter(None, (t.strip() for t in text.split(","))):
        if "!=" in term:
            key, value = term.split("!=", 1)
            selector[key.strip()] = operators.not_equal(value.strip())
        elif "=" in term:
            key, value = term.replace("==", "=").split("=", 1)
            selector[key.strip()] = value.strip()
        elif term.startswith("!"):
            selector[term[1:]] = operators.not_exists()
        else:
            selector[term] = operators.exists()
    return selector


def kubeconfig_paths(explicit: str | Path | None = None) -> list[Path]:
    """The kubeconfig files kubectl would read, in precedence order."""
    if explicit:
        return [Path(explicit).expanduser()]
    env = os.environ.get("KUBECONFIG", "")
    paths = [Path(p).expanduser() for p in env.split(os.pathsep) if p.strip()]
    return paths or [Path(DEFAULT_KUBECONFIG).expanduser()]


def load_kubeconfig(explicit: str | Path | None = None) -> KubeConfig:
    """Load and merge the kubeconfig files; fall back to the in-cluster service account."""
    paths = [p for p in kubeconfig_paths(explicit) if p.is_file()]
    if not paths:
        try:
            return KubeConfig.from_service_account()
        except (ConfigError, KeyError):
            looked = ", ".join(str(p) for p in kubeconfig_paths(explicit))
            raise KubeError(
                f"no kubeconfig found (looked at {looked}) and not running inside a cluster; "
                "set KUBECONFIG or pass --kubeconfig"
            ) from None
    merged: dict[str, Any] = {"clusters": [], "contexts": [], "users": []}
    for path in paths:
        doc = _read_yaml(path)
        for section in ("clusters", "contexts", "users"):
            known = {e.get("name") for e in merged[section]}
            merged[section] += [e for e in doc.get(section) or [] if e.get("name") not in known]
        if not merged.get("current-context"):
            merged["current-context"] = doc.get("current-context") or None
    try:
        return KubeConfig.from_dict(merged, fname=paths[0])
    except (KeyError, TypeError, ValueError) as exc:
        raise KubeError(f"kubeconfig {paths[0]} is not valid: {exc}") from None


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise KubeError(f"cannot read kubeconfig {path}: {exc}") from None
    if not isinstance(doc, dict):
        raise KubeError(f"kubeconfig {path} is not a YAML mapping")
    return doc
