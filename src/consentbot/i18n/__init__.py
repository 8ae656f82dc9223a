"""Babel catalogs and locale-aware formatting for everything the bot says."""
