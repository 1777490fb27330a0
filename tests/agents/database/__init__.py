"""Tests of the PostgreSQL expert agent: tools against the real lab, and the diagnostician."""
