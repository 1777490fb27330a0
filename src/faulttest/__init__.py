"""faulttest: the failure testing framework for aiHelpDesk.

A catalog of failure modes, injectors that really break a test system, teardown
that really restores it, a runner that asks an agent, and an evaluator that scores it.
"""

__version__ = "0.1.0"
