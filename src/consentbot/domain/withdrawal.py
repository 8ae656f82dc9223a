"""Levels of withdrawal, as UK Biobank and Our Future Health describe them."""

from __future__ import annotations

from enum import StrEnum


class WithdrawalLevel(StrEnum):
    """How far a withdrawal goes. Stored on withdrawal events in the ledger."""

    NO_FURTHER_CONTACT = "no-further-contact"
    """Keep using data already given, but never contact me again."""
    NO_FURTHER_USE = "no-further-use"
    """Stop using my data for anything new. The default for WITHDRAW by SMS."""
    NO_FURTHER_USE_AND_REMOVAL = "no-further-use-and-removal"
    """Stop, and remove my data wherever that is still possible."""
