"""aiHelpDesk: an AI operations help desk for PostgreSQL and Kubernetes.

The orchestrator delegates to expert agents over A2A; each agent reasons with an
LLM when one is configured, or with the built-in diagnostician when none is.
"""

__version__ = "0.1.0"
