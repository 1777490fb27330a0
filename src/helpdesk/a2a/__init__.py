"""The A2A edge of aiHelpDesk: serve any Agent over A2A (1.0 and 0.3) and ask A2A agents.

`server` builds the ASGI app, `executor` bridges the SDK to `Agent.answer`, `client`
asks an agent for an AgentResult, and `runtime` runs an app with uvicorn.
"""
