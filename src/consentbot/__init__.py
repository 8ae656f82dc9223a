"""consentbot: the consent conversation for health-data research, as a service."""

__version__ = "0.1.0"
