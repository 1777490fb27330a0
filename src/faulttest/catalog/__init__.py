"""The failure catalog: schema (`models`), YAML loading with precise errors (`loader`),
and the built-in catalog shipped as package data (`builtin/`)."""
