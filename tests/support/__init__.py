"""Reusable test helpers (real loopback servers); imported as tests.support.*."""
