"""Test doubles: fake vendor APIs served on 127.0.0.1 (never used by the product)."""
