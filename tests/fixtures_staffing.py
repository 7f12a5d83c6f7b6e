"""Fixtures for the staffing tests."""
