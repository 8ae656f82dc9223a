"""``consentbot content publish`` from the shell: dry run, publish, again, and refusals."""

from __future__ import annotations

from pathlib import Path

from consentbot.settings import Settings
from tests.support.cli import consentbot
from tests.support.content import edit_summary, sample_copy, set_version
from tests.support.journey import STUDY


def test_publish_from_the_shell(settings: Settings, tmp_path: Path) -> None:
    content = sample_copy(tmp_path / "content")
    configured = settings.with_(content_dir=content)

    dry = consentbot(
        configured, "content", "publish", "--study", STUDY, "--by", "Dr Ada", "--dry-run"
    )
    assert dry.returncode == 0, dry.stderr
    assert (
        f"dry run: {STUDY} version 1 would be published (its first published version); nothing was stored"
        in dry.stdout
    )

    done = consentbot(configured, "content", "publish", "--study", STUDY, "--by", "Dr Ada")
    assert done.returncode == 0, done.stderr
    assert f"{STUDY} version 1 published" in done.stdout
    assert "  by: Dr Ada\n" in done.stdout
    assert "  content hash: " in done.stdout

    again = consentbot(configured, "content", "publish", "--study", STUDY, "--by", "Someone")
    assert again.returncode == 0, again.stderr
    assert "is already published with these files (by Dr Ada at " in again.stdout
    assert "nothing changed" in again.stdout

    edit_summary(content, "Edited without a new version.")
    refused = consentbot(configured, "content", "publish", "--study", STUDY, "--by", "Dr Ada")
    assert refused.returncode == 1
    assert "raise `version` and publish" in refused.stderr
    assert str(content / "studies" / STUDY / "en.yaml") in refused.stderr

    set_version(content, 2)
    second = consentbot(configured, "content", "publish", "--study", STUDY, "--by", "Dr Ada")
    assert second.returncode == 0, second.stderr
    assert f"{STUDY} version 2 published (newest published: version 1)" in second.stdout
    assert "1 is older than the study's version 2" in second.stdout
