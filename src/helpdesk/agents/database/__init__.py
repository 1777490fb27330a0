"""The PostgreSQL expert agent (`postgres_database_agent`).

Its diagnostic tools (`build_registry`) and `DatabaseAgent`, whose default brain is the
built-in diagnostician.
"""

from helpdesk.agents.database.agent import Brain, DatabaseAgent
from helpdesk.agents.database.registry import AGENT_NAME, build_registry

__all__ = ["AGENT_NAME", "Brain", "DatabaseAgent", "build_registry"]
