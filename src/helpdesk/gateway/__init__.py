"""The REST gateway (`helpdesk gateway`): aiHelpDesk over HTTP+JSON with an OpenAPI document."""

from helpdesk.gateway.app import create_app
from helpdesk.gateway.auth import API_KEY_VAR, GatewayConfigError, load_api_key

__all__ = ["API_KEY_VAR", "GatewayConfigError", "create_app", "load_api_key"]
