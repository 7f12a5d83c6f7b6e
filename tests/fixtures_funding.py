"""Fixtures for the funding tests."""
