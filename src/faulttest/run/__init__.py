"""The pipeline behind `faulttest run`: agents, per-fault inject → ask → score → teardown."""
