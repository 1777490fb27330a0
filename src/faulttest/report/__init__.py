"""Run reports (SPEC §8): the models, and renderers for JSON, JUnit, HTML and the console.

Renderers only render; every string they write passes through `helpdesk.dsn.mask`.
"""

from faulttest.report.models import (
    Environment,
    FaultResult,
    Phases,
    RemediationResult,
    RepeatRun,
    Repeats,
    RunReport,
    Stability,
    Status,
    Summary,
)

__all__ = [
    "Environment",
    "FaultResult",
    "Phases",
    "RemediationResult",
    "RepeatRun",
    "Repeats",
    "RunReport",
    "Stability",
    "Status",
    "Summary",
]
