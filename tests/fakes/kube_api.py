"""A fake Kubernetes API server (test double) on 127.0.0.1 for lightkube and similar clients.

It serves the real REST paths (core `/api/v1`, `/apis/{group}/{version}`) for the kinds the
k8s agent and the fault injection use: list/get with label and field selectors, pod logs
(current and `previous=true`), server-side apply (`application/apply-patch+yaml`), merge
patches, create and delete, all kept in memory, and Status errors shaped as a cluster
sends them. Every request is recorded so tests can assert exactly what a client did.
"""

from __future__ import annotations

import copy
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml


@dataclass(frozen=True)
class Kind:
    kind: str
    group_version: str  # "v1" for core, else "group/version"
    plural: str
    namespaced: bool = True


KINDS: tuple[Kind, ...] = (
    Kind("Pod", "v1", "pods"),
    Kind("Service", "v1", "services"),
    Kind("Endpoints", "v1", "endpoints"),
    Kind("Event", "v1", "events"),
    Kind("ConfigMap", "v1", "configmaps"),
    Kind("Secret", "v1", "secrets"),
    Kind("PersistentVolumeClaim", "v1", "persistentvolumeclaims"),
    Kind("ServiceAccount", "v1", "serviceaccounts"),
    Kind("Node", "v1", "nodes", namespaced=False),
    Kind("Namespace", "v1", "namespaces", namespaced=False),
    Kind("PersistentVolume", "v1", "persistentvolumes", namespaced=False),
    Kind("Deployment", "apps/v1", "deployments"),
    Kind("StatefulSet", "apps/v1", "statefulsets"),
    Kind("ReplicaSet", "apps/v1", "replicasets"),
    Kind("DaemonSet", "apps/v1", "daemonsets"),
    Kind("Event", "events.k8s.io/v1", "events"),
    Kind("StorageClass", "storage.k8s.io/v1", "storageclasses", namespaced=False),
    Kind("EndpointSlice", "discovery.k8s.io/v1", "endpointslices"),
)
_BY_PATH = {(k.group_version, k.plural): k for k in KINDS}
_BY_KIND = {(k.group_version, k.kind): k for k in KINDS}

Key = tuple[str, str, str, str]  # (group_version, plural, namespace or "", name)


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Request:
    """One request as the fake received it."""

    method: str
    path: str
    query: dict[str, str]
    content_type: str
    body: Any

    @property
    def is_apply(self) -> bool:
        return self.method == "PATCH" and self.content_type.startswith("application/apply-patch")


class ApiStatus(Exception):
    """An API error answered as a `Status` object."""

    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message

    def body(self) -> dict[str, Any]:
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }


@dataclass
class Route:
    kind: Kind
    namespace: str  # "" when cluster-scoped or across all namespaces
    name: str
    subresource: str = ""


@dataclass
class FakeKubeApi:
    """In-memory objects and pod logs; `serve()` runs it on a free local port."""

    token: str | None = None  # when set, requests must carry `Authorization: Bearer <token>`
    objects: dict[Key, dict[str, Any]] = field(default_factory=dict)
    logs: dict[tuple[str, str, str, bool], str] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    # Called after every successful write with (api, request, stored object or None on
    # delete): lets a test play a controller, e.g. create the pods of an applied Deployment.
    reactors: list[Callable[[FakeKubeApi, Request, dict[str, Any] | None], None]] = field(
        default_factory=list
    )
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _version: int = 1000

    # ---- seeding and inspection -------------------------------------------------

    def add(self, *objs: dict[str, Any]) -> None:
        """Store objects as a cluster would hold them (metadata filled in)."""
        with self._lock:
            for obj in objs:
                kind = self._kind_of(obj)
                namespace = obj["metadata"].get("namespace", "default") if kind.namespaced else ""
                self._store(kind, namespace, copy.deepcopy(obj))

    def set_log(
        self, namespace: str, pod: str, text: str, container: str = "", previous: bool = False
    ) -> None:
        """The log a pod's container returns (`previous` for the last terminated instance)."""
        self.logs[(namespace, pod, container, previous)] = text

    def get(self, kind: str, name: str, namespace: str = "", api_version: str = "") -> dict | None:
        k = self._kind_named(kind, api_version)
        return self.objects.get(
            (k.group_version, k.plural, namespace if k.namespaced else "", name)
        )

    def list(self, kind: str, namespace: str | None = None, api_version: str = "") -> list[dict]:
        k = self._kind_named(kind, api_version)
        return [
            o
            for (gv, plural, ns, _), o in sorted(self.objects.items())
            if (gv, plural) == (k.group_version, k.plural) and namespace in (None, ns)
        ]

    def writes(self) -> list[Request]:
        return [r for r in self.requests if r.method in ("POST", "PUT", "PATCH", "DELETE")]

    # ---- request handling ---------------------------------------------------------

    def handle(self, method: str, raw_path: str, content_type: str, raw_body: bytes) -> tuple:
        """Answer one request: (status code, content type, body bytes)."""
        url = urlsplit(raw_path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        with self._lock:
            try:
                body = self._decode_body(content_type, raw_body)
                request = Request(method, url.path, query, content_type, body)
                self.requests.append(request)
                status, payload = self._dispatch(method, url.path, query, content_type, body)
            except ApiStatus as exc:
                return exc.code, "application/json", json.dumps(exc.body()).encode()
        if method != "GET":
            stored = (
                payload if isinstance(payload, dict) and payload.get("kind") != "Status" else None
            )
            for react in self.reactors:
                react(self, request, stored)
        if isinstance(payload, str):
            return status, "text/plain", payload.encode()
        return status, "application/json", json.dumps(payload).encode()

    @staticmethod
    def _decode_body(content_type: str, raw: bytes) -> Any:
        if not raw:
            return None
        if "yaml" in content_type:
            return yaml.safe_load(raw)
        try:
            return json.loads(raw)
        except ValueError:
            raise ApiStatus(400, "BadRequest", "the request body is not valid JSON") from None

    def _dispatch(self, method: str, path: str, query: dict, ctype: str, body: Any) -> tuple:
        if path == "/version":
            return 200, {"major": "1", "minor": "31", "gitVersion": "v1.31.0-fake"}
        route = self._route(path)
        if route.subresource == "log":
            return 200, self._pod_log(route, query)
        if route.subresource:
            raise ApiStatus(
                404, "NotFound", f"the server could not find the requested resource ({path})"
            )
        if method == "GET":
            return (200, self._get(route)) if route.name else (200, self._list(route, query))
        if method == "POST":
            return 201, self._create(route, body)
        if method == "PUT":
            return 200, self._replace(route, body)
        if method == "PATCH":
            return self._patch(route, query, ctype, body)
        if method == "DELETE":
            return 200, self._delete(route)
        raise ApiStatus(405, "MethodNotAllowed", f"method {method} is not supported")

    def _route(self, path: str) -> Route:
        parts = [p for p in path.split("/") if p]
        if parts[:2] == ["api", "v1"]:
            gv, rest = "v1", parts[2:]
        elif parts[:1] == ["apis"] and len(parts) >= 3:
            gv, rest = f"{parts[1]}/{parts[2]}", parts[3:]
        else:
            raise ApiStatus(
                404, "NotFound", f"the server could not find the requested resource ({path})"
            )
        namespace = ""
        if len(rest) >= 3 and rest[0] == "namespaces":
            namespace, rest = rest[1], rest[2:]
        if not rest or (gv, rest[0]) not in _BY_PATH:
            raise ApiStatus(
                404, "NotFound", f"the server could not find the requested resource ({path})"
            )
        kind = _BY_PATH[(gv, rest[0])]
        name = rest[1] if len(rest) > 1 else ""
        sub = "/".join(rest[2:])
        return Route(kind, namespace if kind.namespaced else "", name, sub)

    def _key(self, route: Route, name: str | None = None) -> Key:
        return (route.kind.group_version, route.kind.plural, route.namespace, name or route.name)

    def _not_found(self, route: Route, name: str | None = None) -> ApiStatus:
        resource = route.kind.plural
        if "/" in route.kind.group_version:
            resource += "." + route.kind.group_version.split("/")[0]
        return ApiStatus(404, "NotFound", f'{resource} "{name or route.name}" not found')

    def _get(self, route: Route) -> dict:
        obj = self.objects.get(self._key(route))
        if obj is None:
            raise self._not_found(route)
        return obj

    def _list(self, route: Route, query: dict[str, str]) -> dict:
        kind = route.kind
        items = [
            o
            for (gv, plural, ns, _), o in sorted(self.objects.items())
            if (gv, plural) == (kind.group_version, kind.plural)
            and (not route.namespace or ns == route.namespace)
            and labels_match(o, query.get("labelSelector", ""))
            and fields_match(o, query.get("fieldSelector", ""))
        ]
        items = [{k: v for k, v in o.items() if k not in ("kind", "apiVersion")} for o in items]
        return {
            "kind": f"{kind.kind}List",
            "apiVersion": kind.group_version,
            "metadata": {"resourceVersion": str(self._version)},
            "items": items,
        }

    def _create(self, route: Route, body: Any) -> dict:
        obj = self._check_body(route, body)
        name = obj["metadata"].get("name")
        if not name:
            raise ApiStatus(
                422, "Invalid", f"{route.kind.kind} is invalid: metadata.name: Required value"
            )
        if self._key(route, name) in self.objects:
            raise ApiStatus(409, "AlreadyExists", f'{route.kind.plural} "{name}" already exists')
        return self._store(route.kind, route.namespace, obj)

    def _replace(self, route: Route, body: Any) -> dict:
        old = self._get(route)
        obj = self._check_body(route, body)
        obj["metadata"].setdefault("uid", old["metadata"]["uid"])
        return self._store(route.kind, route.namespace, obj)

    def _patch(self, route: Route, query: dict, ctype: str, body: Any) -> tuple[int, dict]:
        existing = self.objects.get(self._key(route))
        if ctype.startswith("application/apply-patch"):
            if not query.get("fieldManager"):
                raise ApiStatus(400, "BadRequest", "PATCH apply requires a fieldManager")
            obj = self._check_body(route, body)
            if existing is None:
                return 201, self._store(route.kind, route.namespace, obj)
            return 200, self._store(route.kind, route.namespace, merge(existing, obj, nulls=False))
        if existing is None:
            raise self._not_found(route)
        if not isinstance(body, dict):
            raise ApiStatus(400, "BadRequest", "unsupported patch body")
        return 200, self._store(route.kind, route.namespace, merge(existing, body, nulls=True))

    def _delete(self, route: Route) -> dict:
        obj = self.objects.pop(self._key(route), None)
        if obj is None:
            raise self._not_found(route)
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": {
                "name": route.name,
                "kind": route.kind.plural,
                "uid": obj["metadata"]["uid"],
            },
        }

    def _pod_log(self, route: Route, query: dict[str, str]) -> str:
        pod = self.objects.get(self._key(route))
        if pod is None or route.kind.kind != "Pod":
            raise self._not_found(route)
        containers = [c["name"] for c in pod.get("spec", {}).get("containers", [])]
        container = query.get("container") or (containers[0] if len(containers) == 1 else "")
        if not container:
            raise ApiStatus(
                400,
                "BadRequest",
                f"a container name must be specified for pod {route.name}, choose one of: "
                f"{containers}",
            )
        previous = query.get("previous") == "true"
        text = self.logs.get((route.namespace, route.name, container, previous))
        if text is None:
            text = self.logs.get((route.namespace, route.name, "", previous))
        if text is None and previous:
            raise ApiStatus(
                400,
                "BadRequest",
                f'previous terminated container "{container}" in pod "{route.name}" not found',
            )
        lines = (text or "").splitlines(keepends=True)
        tail = query.get("tailLines")
        if tail is not None:
            lines = lines[-int(tail) :] if int(tail) > 0 else []
        return "".join(lines)

    def _check_body(self, route: Route, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("metadata"), dict):
            raise ApiStatus(400, "BadRequest", "the object has no metadata")
        if body.get("kind") not in (None, route.kind.kind):
            raise ApiStatus(
                400,
                "BadRequest",
                f"the body kind {body.get('kind')!r} does not match {route.kind.kind}",
            )
        ns = body["metadata"].get("namespace")
        if route.kind.namespaced and ns and ns != route.namespace:
            raise ApiStatus(
                400,
                "BadRequest",
                "the namespace of the provided object does not match the namespace sent on "
                "the request",
            )
        if route.name and body["metadata"].get("name") not in (None, route.name):
            raise ApiStatus(
                400, "BadRequest", "the name of the object does not match the name on the URL"
            )
        obj = copy.deepcopy(body)
        obj["metadata"].setdefault("name", route.name)
        return obj

    def _store(self, kind: Kind, namespace: str, obj: dict[str, Any]) -> dict[str, Any]:
        self._version += 1
        meta = obj.setdefault("metadata", {})
        if kind.namespaced:
            meta["namespace"] = namespace
        meta.setdefault("uid", str(uuid.uuid4()))
        meta.setdefault("creationTimestamp", now_iso())
        meta["resourceVersion"] = str(self._version)
        obj["kind"], obj["apiVersion"] = kind.kind, kind.group_version
        self.objects[(kind.group_version, kind.plural, namespace, meta["name"])] = obj
        return obj

    @staticmethod
    def _kind_of(obj: dict[str, Any]) -> Kind:
        try:
            return _BY_KIND[(obj.get("apiVersion", "v1"), obj["kind"])]
        except KeyError:
            raise ValueError(
                f"the fake API does not serve {obj.get('apiVersion')}/{obj.get('kind')}"
            ) from None

    @staticmethod
    def _kind_named(kind: str, api_version: str = "") -> Kind:
        matches = [k for k in KINDS if k.kind == kind and api_version in ("", k.group_version)]
        if not matches:
            raise ValueError(f"unknown kind {kind!r}")
        return matches[0]

    # ---- serving --------------------------------------------------------------------

    @contextmanager
    def serve(self) -> Iterator[str]:
        """Run on 127.0.0.1 (a free port) for the duration of the block; yields the base URL."""
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        server.daemon_threads = True
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-kube-api",
            daemon=True,
        )
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)


def _handler_for(api: FakeKubeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if api.token and self.headers.get("Authorization") != f"Bearer {api.token}":
                status, ctype = 401, "application/json"
                body = json.dumps(ApiStatus(401, "Unauthorized", "Unauthorized").body()).encode()
            else:
                status, ctype, body = api.handle(
                    self.command, self.path, self.headers.get("Content-Type", ""), raw
                )
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    return Handler


# ---- selectors and merging ---------------------------------------------------------


def labels_match(obj: dict[str, Any], selector: str) -> bool:
    """Equality-based label selectors: `a=b`, `a==b`, `a!=b`, `a`, `!a`, comma-joined."""
    labels = obj.get("metadata", {}).get("labels") or {}
    for term in filter(None, (t.strip() for t in selector.split(","))):
        if "!=" in term:
            key, value = term.split("!=", 1)
            if labels.get(key.strip()) == value.strip():
                return False
        elif "=" in term:
            key, value = term.replace("==", "=").split("=", 1)
            if labels.get(key.strip()) != value.strip():
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


def fields_match(obj: dict[str, Any], selector: str) -> bool:
    """Field selectors such as `involvedObject.name=x`, `status.phase!=Running`."""
    for term in filter(None, (t.strip() for t in selector.split(","))):
        negate = "!=" in term
        path, value = term.replace("!=", "=").replace("==", "=").split("=", 1)
        actual: Any = obj
        for part in path.split("."):
            actual = actual.get(part) if isinstance(actual, dict) else None
        if (str(actual) if actual is not None else "") == value:
            if negate:
                return False
        elif not negate:
            return False
    return True


def merge(base: dict[str, Any], patch: dict[str, Any], nulls: bool) -> dict[str, Any]:
    """JSON merge: dicts merge recursively, other values replace; `null` deletes if `nulls`."""
    out = copy.deepcopy(base)
    for key, value in patch.items():
        if value is None and nulls:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value, nulls)
        else:
            out[key] = copy.deepcopy(value)
    return out


# ---- kubeconfig -----------------------------------------------------------------------


def write_kubeconfig(
    path: Path,
    contexts: dict[str, str],
    current: str | None = None,
    namespaces: dict[str, str] | None = None,
    token: str | None = None,
) -> Path:
    """Write a kubeconfig with one cluster + context per entry of `contexts` (name -> URL)."""
    namespaces = namespaces or {}
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [
            {"name": f"{n}-cluster", "cluster": {"server": url}} for n, url in contexts.items()
        ],
        "users": [
            {"name": f"{n}-user", "user": {"token": token} if token else {}} for n in contexts
        ],
        "contexts": [
            {
                "name": n,
                "context": {
                    "cluster": f"{n}-cluster",
                    "user": f"{n}-user",
                    **({"namespace": namespaces[n]} if n in namespaces else {}),
                },
            }
            for n in contexts
        ],
        "current-context": current or next(iter(contexts)),
    }
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path
