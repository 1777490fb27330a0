"""`helpdesk gateway`: serve the REST gateway (agents from HELPDESK_AGENT_URLS) until Ctrl-C."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from helpdesk.a2a.client import DEFAULT_TIMEOUT
from helpdesk.cli.a2a_cmds import CliError
from helpdesk.cli.orchestrator_cmds import make_orchestrator
from helpdesk.logfmt import fields

log = logging.getLogger("helpdesk.gateway")

DEFAULT_PORT = 8080


def serve_gateway(
    host: str, port: int, api_key_file: Path | None = None, timeout: float = DEFAULT_TIMEOUT
) -> None:
    """Build the orchestrator and the app, then serve in the foreground until Ctrl-C."""
    import uvicorn

    from helpdesk.a2a.runtime import ServeError, base_url, bind
    from helpdesk.gateway import GatewayConfigError, create_app, load_api_key

    try:
        api_key = load_api_key(api_key_file)
    except GatewayConfigError as exc:
        raise CliError(str(exc), exit_code=2) from None
    app = create_app(make_orchestrator(timeout), api_key=api_key)
    try:
        sock = bind(host, port)
    except ServeError as exc:
        raise CliError(str(exc)) from None
    config = uvicorn.Config(app, log_config=None, access_log=False, timeout_graceful_shutdown=5)
    url = base_url(*sock.getsockname()[:2])
    log.info(
        "gateway serving",
        extra=fields(url=url, openapi=f"{url}/openapi.json", auth="on" if api_key else "off"),
    )
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # uvicorn has shut down gracefully already
    finally:
        sock.close()
    log.info("gateway stopped")


def register(app: typer.Typer) -> None:
    @app.command("gateway")
    def gateway_cmd(
        host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port to listen on.")] = DEFAULT_PORT,
        api_key_file: Annotated[
            Path | None,
            typer.Option(
                help="File whose first line is the API key clients must send as "
                "'Authorization: Bearer <key>' (else $HELPDESK_GATEWAY_API_KEY; neither: open)."
            ),
        ] = None,
        timeout: Annotated[float, typer.Option(help="Seconds to wait for an agent.")] = (
            DEFAULT_TIMEOUT
        ),
    ) -> None:
        """Serve the REST gateway with its OpenAPI document at /openapi.json."""
        serve_gateway(host, port, api_key_file, timeout)
