"""People in the sample study with a given ``updates`` consent, for the announcement tests.

Invited through the service (their invitations sent and out of the way), then their
``updates`` state written straight into the projection, as the console tests do: how a
person reaches ``active`` is the journey tests' business, not these.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import col, select

from consentbot.domain.provenance import Auth, Channel, Provenance
from consentbot.domain.status import ConsentStatus
from consentbot.domain.stopping import StopSource
from consentbot.services.clock import Clock
from consentbot.services.invitations import InvitationService
from consentbot.store.contacts import ContactRepository
from consentbot.store.database import Database
from consentbot.store.tables import ConsentState, Participant
from tests.support.journey import STUDY

TEXTS = {
    "en": "The first results are out. Thank you for taking part.",
    "cy": "Mae'r canlyniadau cyntaf yma. Diolch am gymryd rhan.",
    "pl": "Są już pierwsze wyniki. Dziękujemy za udział.",
    "ur": "پہلے نتائج آ گئے ہیں۔ حصہ لینے کا شکریہ۔",
}


@dataclass(frozen=True, slots=True)
class Person:
    phone: str
    reference: str
    language: str
    updates: ConsentStatus | None
    """None: never answered."""
    stopped: bool = False


def update_file(name: str = "results-2027-01", texts: dict[str, str] | None = None) -> str:
    lines = [f"id: {name}", "texts:"]
    lines += [f"  {language}: {text!r}" for language, text in (texts or TEXTS).items()]
    return "\n".join(lines) + "\n"


def people(*specs: tuple[str, ConsentStatus | None], stopped: Sequence[int] = ()) -> list[Person]:
    """Person n gets the number 07400 900nnn and the reference A-nnn."""
    return [
        Person(f"+447400900{n:03d}", f"A-{n:03d}", language, updates, stopped=n in stopped)
        for n, (language, updates) in enumerate(specs)
    ]


async def seed(
    db: Database,
    invitations: InvitationService,
    clock: Clock,
    persons: Sequence[Person],
) -> dict[str, int]:
    """Invite ``persons`` and give them their ``updates`` state; participant id by reference."""
    provenance = Provenance(Channel.CLI, "staff", Auth.SYSTEM)
    for person in persons:
        await invitations.invite(
            STUDY,
            phone=person.phone,
            reference=person.reference,
            language=person.language,
            provenance=provenance,
        )
    now = clock()
    async with db.transaction() as session:
        rows = (await session.exec(select(Participant).order_by(col(Participant.id)))).all()
        ids = {row.reference: row.id or 0 for row in rows}
        contacts = ContactRepository(session, invitations.deps.vault)
        for person in persons:
            if person.stopped:
                contact = await contacts.find(person.phone, lock=True)
                assert contact is not None
                contacts.stop(contact, StopSource.SMS, now)
            if person.updates is None:
                continue
            session.add(
                ConsentState(
                    participant_id=ids[person.reference],
                    purpose_id="updates",
                    status=person.updates.value,
                    since=now,
                    content_version=1,
                    language=person.language,
                )
            )
    return ids
