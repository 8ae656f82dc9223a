"""Fault tests: the service under killed processes, restarting databases, failing gateways,
jumping clocks and duplicated or reordered messages, checked against its promises."""
