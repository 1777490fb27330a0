"""The `faulttest` command: thin typer commands over the library, one module per group."""
