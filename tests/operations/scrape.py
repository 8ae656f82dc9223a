"""Reading /metrics the way Prometheus does: the text format, parsed by prometheus-client."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import AppClient


def parse(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    """One sample's value; 0 for a labelled series never touched (as Prometheus sees it)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


async def scrape(client: AppClient, **headers: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """GET /metrics (it must be allowed) and parse it."""
    response = await client.get("/metrics", headers=headers)
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    return parse(await response.text())
