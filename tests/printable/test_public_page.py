"""The public printable explanation: complete in each language, right-to-left in Urdu, and a
clear 404 for a study, version or language that does not exist."""

from __future__ import annotations

import pytest

from consentbot import keys
from consentbot.content.model import Study
from tests.conftest import AppClient
from tests.printable.expected import missing, page_text
from tests.support.journey import STUDY, translator
from tests.support.twilio_fake import PUBLIC_URL, SERVICE_NUMBER


def served(client: AppClient) -> Study:
    study = client.app[keys.STUDIES].get(STUDY)
    assert study is not None
    return study


@pytest.mark.parametrize("language", ["en", "ur"])
async def test_the_page_holds_the_whole_explanation_and_how_to_change(client: AppClient, language: str) -> None:
    response = await client.get(f"/studies/{STUDY}/print?lang={language}")
    assert response.status == 200
    page = await response.text()
    shown = page_text(page)
    assert missing(served(client), language, shown) == []
    # The study's own page, never a personal link; the number people text.
    assert f"{PUBLIC_URL}/s/{STUDY}" in shown
    assert "/i/" not in page
    assert SERVICE_NUMBER in shown
    direction = "rtl" if language == "ur" else "ltr"
    assert f'<html lang="{language}" dir="{direction}">' in page
    assert translator(language).gettext("How to check or change your choices") in shown


async def test_without_a_language_or_version_it_is_the_default_language_of_the_newest(client: AppClient) -> None:
    response = await client.get(f"/studies/{STUDY}/print")
    assert response.status == 200
    page = await response.text()
    study = served(client)
    assert '<html lang="en" dir="ltr">' in page
    assert f"Version {study.version}" in page_text(page)
    assert '<body class="normal">' in page


async def test_large_print_is_asked_for_in_the_address(client: AppClient) -> None:
    page = await (await client.get(f"/studies/{STUDY}/print?lang=en&version=1&large=1")).text()
    assert '<body class="large">' in page
    assert f'href="/studies/{STUDY}/print?lang=en&amp;version=1">Normal print</a>' in page
    assert missing(served(client), "en", page_text(page)) == []


async def test_it_is_public_and_links_a_print_stylesheet(client: AppClient) -> None:
    response = await client.get(f"/studies/{STUDY}/print?lang=cy")
    assert response.status == 200
    page = await response.text()
    assert '<link rel="stylesheet" href="/static/print.css">' in page
    css = await (await client.get("/static/print.css")).text()
    assert "@page { size: A4;" in css
    assert "@media print" in css


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("/studies/no-such-study/print", "there is no study 'no-such-study'"),
        (f"/studies/{STUDY}/print?version=9", f"study '{STUDY}' has no published version '9'"),
        (f"/studies/{STUDY}/print?version=first", f"study '{STUDY}' has no published version 'first'"),
        (f"/studies/{STUDY}/print?lang=fr", f"version 1 of study '{STUDY}' is not written in 'fr'; it is in en, cy, pl, ur"),
    ],
)
async def test_a_study_version_or_language_that_does_not_exist_is_a_clear_404(
    client: AppClient, query: str, message: str
) -> None:
    response = await client.get(query)
    assert response.status == 404
    assert message in await response.text()
