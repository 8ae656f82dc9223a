"""SMS gateways and other surfaces: thin adapters between a protocol and the consent service."""
