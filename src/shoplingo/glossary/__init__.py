"""Tenant glossaries: terms, matching, and enforcement on every translation."""
