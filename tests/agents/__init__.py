"""Tests of the expert agents."""
