"""The built-in diagnostician (vendor `builtin`): a deterministic PostgreSQL doctor.

`request` reads the message, `investigation` runs the tools, `rules_*` turn tool output
into findings, `conclusion` picks the diagnosis and `report` writes the answer.
"""

from helpdesk.agents.database.diagnostician.engine import MODEL, BuiltinDiagnostician

__all__ = ["MODEL", "BuiltinDiagnostician"]
