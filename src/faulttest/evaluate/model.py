"""The evaluation result: a verdict, a score and every component with its reason.

Both profiles (`strict`, `compat`) produce this model; reports embed it as is and
`faulttest score` prints it as JSON.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Profile = Literal["strict", "compat"]
CategorySource = Literal["structured", "judge", "inferred", "none"]


class Component(BaseModel):
    """One property the answer was checked for.

    A `mandatory` component that did not pass fails the evaluation whatever the score.
    `applicable=False` means the catalog entry asks nothing here (it neither helps nor hurts).
    """

    name: str
    passed: bool
    score: float = Field(ge=0.0, le=1.0)
    weight: float = Field(default=0.0, ge=0.0)
    mandatory: bool = True
    applicable: bool = True
    reason: str


class JudgeRecord(BaseModel):
    """What the LLM judge said, kept in the result (SPEC §7)."""

    score: float = Field(ge=0.0, le=1.0)
    passed: bool
    category: str | None = None
    model: str
    rubric_version: str
    reasoning: str


class Evaluation(BaseModel):
    profile: Profile
    failure_id: str
    passed: bool
    score: float = Field(ge=0.0, le=1.0)
    category: str | None = None  # the primary category the answer was credited with
    category_source: CategorySource = "none"
    components: list[Component] = Field(default_factory=list)
    judge: JudgeRecord | None = None

    def component(self, name: str) -> Component | None:
        return next((c for c in self.components if c.name == name), None)

    def _passed(self, name: str) -> bool:
        found = self.component(name)
        return found.passed if found else False

    @property
    def keyword_pass(self) -> bool:
        return self._passed("keywords")

    @property
    def diagnosis_pass(self) -> bool:
        return self._passed("category")

    @property
    def tool_evidence(self) -> bool:
        return self._passed("tool_evidence")

    def failed_reasons(self) -> list[str]:
        """The reasons of the mandatory components that failed, in order."""
        return [f"{c.name}: {c.reason}" for c in self.components if c.mandatory and not c.passed]
