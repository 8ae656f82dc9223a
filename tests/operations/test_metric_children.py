"""Metrics.labelled: a series made once per label values, counting into the registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from consentbot.metrics import Metrics


def test_a_series_is_made_once_and_counts_where_the_registry_reads_it() -> None:
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    sent = metrics.labelled(metrics.sms, "twilio", "sent")
    assert metrics.labelled(metrics.sms, "twilio", "sent") is sent
    assert metrics.labelled(metrics.sms, "twilio", "failed") is not sent
    assert metrics.labelled(metrics.sms, "kannel", "sent") is not sent
    sent.inc(2)
    metrics.sms_outcome("twilio", "sent")
    metrics.sms_outcome("kannel", "sent")
    labels = {"gateway": "twilio", "outcome": "sent"}
    assert registry.get_sample_value("consentbot_sms_total", labels) == 3
    kannel = {"gateway": "kannel", "outcome": "sent"}
    assert registry.get_sample_value("consentbot_sms_total", kannel) == 1


def test_the_same_values_of_two_metrics_are_two_series() -> None:
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    metrics.labelled(metrics.turns, "sms", "said", "handled").inc()
    metrics.labelled(metrics.http_requests, "sms", "said", "handled").inc(5)
    turns = {"channel": "sms", "trigger": "said", "outcome": "handled"}
    assert registry.get_sample_value("consentbot_turns_total", turns) == 1
    with metrics.timing_send("twilio"):
        pass
    seconds = metrics.labelled(metrics.gateway_send_seconds, "twilio")
    assert seconds is metrics.gateway_send_seconds.labels("twilio")
