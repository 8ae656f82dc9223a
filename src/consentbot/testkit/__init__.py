"""Fakes of the services consentbot talks to, shared by the tests and the benchmarks.

One fake per external service: a test and a benchmark that both need a Twilio use the
same one, so what the benchmark measures is what the tests check.
"""
