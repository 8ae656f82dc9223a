"""Publish a changed version of the sample study while the service runs, as a team would."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, cast

import yaml

from consentbot import keys
from consentbot.channels.console import ConsoleGateway
from consentbot.content.model import Study
from consentbot.runtime import load_content, open_runtime
from consentbot.services.clock import ManualClock
from consentbot.services.study_changes import ChangeSummary
from tests.conftest import AppClient
from tests.support.journey import ROOT, STUDY

CHANGE_EN = "Kestrel Imaging, a company, now also wants to use the records to test a knee tool."


def changed_content(
    target: Path,
    *,
    purposes: tuple[str, ...] = ("commercial-partner",),
    reconsent: str = "required",
    explanations: dict[str, str] | None = None,
) -> Path:
    """A copy of content/ whose sample study is version 2 and declares ``changes``."""
    shutil.copytree(ROOT / "content", target)
    folder = target / "studies" / STUDY
    study: dict[str, Any] = yaml.safe_load((folder / "study.yaml").read_text(encoding="utf-8"))
    study.update(version=2, changes={"purposes": list(purposes), "reconsent": reconsent})
    (folder / "study.yaml").write_text(yaml.safe_dump(study, allow_unicode=True), encoding="utf-8")
    for language, explanation in (explanations or {"en": CHANGE_EN}).items():
        path = folder / f"{language}.yaml"
        text: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
        text["changes"] = explanation
        path.write_text(yaml.safe_dump(text, allow_unicode=True), encoding="utf-8")
    return target


async def publish_change(
    client: AppClient, content_dir: Path, clock: ManualClock, *, dry_run: bool = False
) -> ChangeSummary | None:
    """Apply version 2's changes to the people concerned, then serve version 2."""
    settings = client.app[keys.SETTINGS].with_(content_dir=content_dir)
    content = load_content(settings)
    served = client.app[keys.STUDIES]
    previous, study = served.get(STUDY), content.studies.get(STUDY)
    assert previous is not None
    assert study is not None
    gateway = ConsoleGateway()
    async with (
        open_runtime(settings, content, clock=clock, gateway=gateway) as runtime,
        runtime.db.transaction() as session,
    ):
        summary = await runtime.study_changes.after_publish(
            session, previous, study, clock(), dry_run=dry_run
        )
    if not dry_run:
        cast(dict[str, Study], served.studies)[STUDY] = study
    return summary
