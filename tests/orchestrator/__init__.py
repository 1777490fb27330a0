"""Tests of the orchestrator: discovery, routing, delegation over A2A, synthesis, CLI."""
