"""Expert agents: each is a set of tools plus a brain (an LLM loop or a built-in diagnostician)."""
