"""CONSENTBOT_SEND_RATE paces announcements as it paces every message we start, and a reply
to someone who writes meanwhile does not wait behind them."""

from __future__ import annotations

from consentbot import keys
from consentbot.domain.status import ConsentStatus
from consentbot.services.announcement_file import AnnouncementFile
from consentbot.services.announcements import AnnouncementService
from consentbot.services.dispatcher import OutboxDispatcher
from tests.announce.conftest import Study
from tests.announce.seed import TEXTS, people
from tests.conftest import AppClient
from tests.support.journey import STUDY
from tests.support.stopwatch import Stopwatch
from tests.support.twilio_fake import FakeTwilio, TwilioPhone


def paced(client: AppClient, rate: float, watch: Stopwatch) -> OutboxDispatcher:
    app = client.app[keys.DISPATCHER]
    return OutboxDispatcher(
        app.db, app.gateway, app.vault, app.clock, app.studies, send_rate=rate, monotonic=watch
    )


async def test_announcements_go_at_the_send_rate_and_replies_do_not_wait(
    client: AppClient, study: Study, announcements: AnnouncementService, fake_twilio: FakeTwilio
) -> None:
    persons = people(*[("en", ConsentStatus.ACTIVE)] * 4)
    await study.add(persons)
    before = len(fake_twilio.accepted)
    plan = await announcements.plan(STUDY, AnnouncementFile("news-1", TEXTS))
    announcement = await announcements.start(plan)
    assert (await announcements.queue_group(plan, announcement, 100)).queued == 4
    watch = Stopwatch()
    dispatcher = paced(client, 10, watch)  # one every tenth of a second

    assert await dispatcher.dispatch_once() == 1
    assert await dispatcher.dispatch_once() == 0
    assert dispatcher.paced
    assert dispatcher.pause(1.0) == 0.1
    assert len(fake_twilio.accepted) - before == 1

    # Someone texts meanwhile: the reply goes at once, with no token left for announcements.
    phone = TwilioPhone(client, fake_twilio, persons[3].phone)
    await phone.send("HELP")
    assert await dispatcher.dispatch_once() == 1
    assert fake_twilio.accepted[-1].to == persons[3].phone
    assert "News from" not in fake_twilio.accepted[-1].body

    for moment in (0.1, 0.2, 0.3):
        watch.now = moment
        assert await dispatcher.dispatch_once() == 1
    announced = [m.to for m in fake_twilio.accepted[before:] if m.body.startswith("News from")]
    assert sorted(announced) == [person.phone for person in persons]
    assert await dispatcher.dispatch_once() == 0
    assert not dispatcher.paced
