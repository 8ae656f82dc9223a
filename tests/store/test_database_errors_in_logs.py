"""A database error never puts a message text into the logs: not its parameters, not the driver's detail."""

from __future__ import annotations

import logging
import traceback

import pytest
import structlog
from sqlalchemy import text

from consentbot import keys
from consentbot.logging import configure_logging
from consentbot.store.errors import describe, is_database_error
from tests.conftest import AppClient
from tests.support.logs import restore_logging  # noqa: F401 (a fixture)
from tests.web.conftest import Browser

SECRET_WORDS = "my private words about my knees"


async def refuse_rows_containing_the_words(client: AppClient) -> None:
    """Make the database reject the person's message the way a real fault would, with an error
    whose parameters (and, on PostgreSQL, whose DETAIL: "Failing row contains ...") hold the text."""
    db = client.app[keys.DATABASE]
    async with db.transaction() as session:
        if db.is_sqlite:
            statement = (
                "CREATE TRIGGER refuse_words BEFORE INSERT ON web_message "
                "WHEN NEW.body LIKE '%knees%' BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )
        else:
            statement = (
                "ALTER TABLE web_message ADD CONSTRAINT refuse_words CHECK (body NOT LIKE '%knees%')"
            )
        await session.exec(text(statement))  # type: ignore[call-overload]


async def allow_them_again(client: AppClient) -> None:
    db = client.app[keys.DATABASE]
    async with db.transaction() as session:
        statement = (
            "DROP TRIGGER refuse_words"
            if db.is_sqlite
            else "ALTER TABLE web_message DROP CONSTRAINT refuse_words"
        )
        await session.exec(text(statement))  # type: ignore[call-overload]


@pytest.mark.usefixtures("restore_logging")
async def test_a_failed_insert_logs_its_type_but_not_the_text(
    web_client: AppClient,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    configure_logging("json", "INFO")  # as `consentbot serve` does; to stderr, which capsys reads
    browser = Browser(web_client)
    await browser.open()
    await refuse_rows_containing_the_words(web_client)
    failure: BaseException | None = None
    try:
        assert await browser.post("messages", text=SECRET_WORDS) == 500
        # What the loops do with an error (dispatcher, scheduler): log.exception through structlog.
        try:
            async with web_client.app[keys.DATABASE].transaction() as session:
                await session.exec(  # type: ignore[call-overload]
                    text("INSERT INTO web_message (web_session_id, direction, body, created_at) "
                         "VALUES (1, 'in', :body, CURRENT_TIMESTAMP)"),
                    params={"body": SECRET_WORDS},
                )
        except Exception as error:
            failure = error
            structlog.get_logger("test").exception("round_failed")
            logging.getLogger("test").exception("round failed")
    finally:
        await allow_them_again(web_client)
    assert failure is not None
    assert is_database_error(failure)
    structlog_output = capsys.readouterr().err
    stdlib_output = caplog.text
    # The failures were logged, with their type...
    assert "Error handling request" in stdlib_output  # aiohttp's own log of the 500
    assert "IntegrityError" in stdlib_output
    assert "round_failed" in structlog_output
    assert "IntegrityError" in structlog_output
    assert "(message withheld)" in structlog_output
    # ...but never the words, in either.
    assert SECRET_WORDS not in structlog_output
    assert SECRET_WORDS not in stdlib_output
    assert "knees" not in structlog_output + stdlib_output


async def test_the_check_above_would_see_the_words_if_they_leaked(web_client: AppClient) -> None:
    """Without the withholding, the error itself does carry the text (on PostgreSQL in its
    DETAIL, which hide_parameters cannot hide), so the test above can fail."""
    await refuse_rows_containing_the_words(web_client)
    db = web_client.app[keys.DATABASE]
    with pytest.raises(Exception) as raised:  # noqa: PT011 (any driver's error will do)
        async with db.transaction() as session:
            await session.exec(  # type: ignore[call-overload]
                text("INSERT INTO web_message (web_session_id, direction, body, created_at) "
                     "VALUES (1, 'in', :body, CURRENT_TIMESTAMP)"),
                params={"body": SECRET_WORDS},
            )
    rendered = str(raised.value)
    assert "[SQL parameters hidden due to hide_parameters=True]" in rendered
    assert SECRET_WORDS not in rendered  # hide_parameters does its part...
    if not db.is_sqlite:
        # ...but the traceback a plain log.exception prints quotes PostgreSQL's DETAIL.
        assert SECRET_WORDS in "".join(traceback.format_exception(raised.value))
    assert SECRET_WORDS not in describe(raised.value)
