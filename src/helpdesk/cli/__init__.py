"""The `helpdesk` command: serve agents, ask them, run the orchestrator."""
