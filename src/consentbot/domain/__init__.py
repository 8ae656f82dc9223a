"""Consent rules as pure functions: no I/O, no framework imports."""
