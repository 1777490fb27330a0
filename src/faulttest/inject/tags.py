"""How faulttest marks what it creates: session tags and the holder's command line.

Background sessions carry application_name `faulttest:<fault key>:<spec name>:<n>`, where
the fault key is a short hash of the fault id: an agent looking at pg_stat_activity sees
that faulttest made the session, but not which fault (the id would give the answer away).
Teardown finds a fault's sessions with `app_prefix`, and its holders by `HOLDER_MODULE`.
"""

from __future__ import annotations

import hashlib

HOLDER_MODULE = "faulttest.inject.holder"


def fault_key(fault_id: str) -> str:
    """A stable, opaque 8-hex-digit key for a fault id."""
    return hashlib.sha256(fault_id.encode()).hexdigest()[:8]


def app_name(fault_id: str, spec_name: str, index: int) -> str:
    """The tag of one background session (PostgreSQL keeps 63 bytes of it)."""
    return f"faulttest:{fault_key(fault_id)}:{spec_name}:{index}"[:63]


def app_prefix(fault_id: str) -> str:
    """A LIKE pattern matching every session of `fault_id` (for pg_terminate_backend)."""
    return f"faulttest:{fault_key(fault_id)}:%"
