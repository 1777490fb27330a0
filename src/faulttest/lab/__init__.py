"""The embedded PostgreSQL lab: a primary and streaming replica on 127.0.0.1 for fault tests.

Public API: `Lab`, `LabInfo`, `LabStatus`, `LabError`, `PortInUse`, `free_port`.
"""

from faulttest.lab.errors import LabError, LabNotRunning, PortInUse
from faulttest.lab.lab import (
    DBNAME,
    DEFAULT_PORT,
    DEFAULT_REPLICA_PORT,
    PASSWORD,
    Lab,
    LabInfo,
    LabStatus,
    ReplicationState,
    default_home,
    lab_dsn,
)
from faulttest.lab.ports import free_port, port_in_use

__all__ = [
    "DBNAME",
    "DEFAULT_PORT",
    "DEFAULT_REPLICA_PORT",
    "PASSWORD",
    "Lab",
    "LabError",
    "LabInfo",
    "LabNotRunning",
    "LabStatus",
    "PortInUse",
    "ReplicationState",
    "default_home",
    "free_port",
    "lab_dsn",
    "port_in_use",
]
