"""Publish a changed version of the sample study while the service runs, as a team would."""

from __future__ import annotations

from typing import Any

import yaml

from consentbot import keys
from consentbot.services.study_changes import ChangeSummary
from tests.conftest import AppClient
from tests.support.journey import STUDY

CHANGE_EN = "Kestrel Imaging, a company, now also wants to use the records to test a knee tool."


def declare_change(
    client: AppClient,
    *,
    purposes: tuple[str, ...] = ("commercial-partner",),
    reconsent: str = "required",
    explanations: dict[str, str] | None = None,
) -> None:
    """Make the content folder's sample study version 2, declaring ``changes``."""
    folder = client.app[keys.SETTINGS].content_dir / "studies" / STUDY
    study: dict[str, Any] = yaml.safe_load((folder / "study.yaml").read_text(encoding="utf-8"))
    study.update(version=2, changes={"purposes": list(purposes), "reconsent": reconsent})
    (folder / "study.yaml").write_text(yaml.safe_dump(study, allow_unicode=True), encoding="utf-8")
    for language, explanation in (explanations or {"en": CHANGE_EN}).items():
        path = folder / f"{language}.yaml"
        text: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
        text["changes"] = explanation
        path.write_text(yaml.safe_dump(text, allow_unicode=True), encoding="utf-8")


async def publish_change(
    client: AppClient, *, reconsent: str = "required", dry_run: bool = False
) -> ChangeSummary:
    """Declare version 2's change, publish it (or dry-run it) and let the service serve it."""
    declare_change(client, reconsent=reconsent)
    result = await client.app[keys.PUBLISHING].publish(STUDY, "Research team", dry_run=dry_run)
    await client.app[keys.PUBLISHED].check_once()  # what the poll does within seconds
    summary = result.after_publish
    assert isinstance(summary, ChangeSummary)
    return summary
