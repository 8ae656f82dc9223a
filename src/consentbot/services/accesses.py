"""Record that a research system used participants' data, for those who allow it right now.

Consent is checked under the same lock a consent change takes (each participant's contact
row, see services/pipeline.py), in the same transaction that writes the record. So a
withdrawal and an access never overlap: either the withdrawal committed first and the
participant is refused, or the access committed first and is ordered before it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import structlog

from consentbot.domain.accesses import AccessorKind, AccessSeen, request_digest
from consentbot.domain.status import ConsentStatus
from consentbot.services.deps import ServiceDeps
from consentbot.services.errors import Conflict, InvalidInput, UnknownStudy
from consentbot.store.accesses import AccessRepository, NewAccess, seen_by_participant

log = structlog.get_logger(__name__)

UNKNOWN = "unknown"
"""The refusal status of a reference that names no participant of the study."""


@dataclass(frozen=True, slots=True)
class AccessRequestBody:
    """A validated ``POST .../accesses`` body."""

    purpose: str
    accessor_name: str
    accessor_organisation: str
    accessor_kind: AccessorKind
    dataset: str
    reason: str
    participants: tuple[str, ...]

    def canonical(self) -> dict[str, object]:
        """The body as the idempotency key is bound to it."""
        return {
            "purpose": self.purpose,
            "accessor": {
                "name": self.accessor_name,
                "organisation": self.accessor_organisation,
                "kind": self.accessor_kind.value,
            },
            "dataset": self.dataset,
            "reason": self.reason,
            "participants": list(self.participants),
        }


@dataclass(frozen=True, slots=True)
class AccessAnswer:
    """What the API answers: the JSON text (stored as is for retries)."""

    body: str
    replayed: bool
    """The answer to an earlier request with the same idempotency key; nothing was recorded."""


def key_hash(key: str) -> str:
    """An idempotency key as stored: its SHA-256 (keys are never kept in clear)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class AccessService:
    """``POST /api/v1/studies/{study}/accesses`` (docs/accesses.md)."""

    def __init__(self, deps: ServiceDeps) -> None:
        self.deps = deps

    async def record(
        self, study_id: str, body: AccessRequestBody, idempotency_key: str | None
    ) -> AccessAnswer:
        """Record the access for the participants whose consent to ``body.purpose`` is active."""
        study = self.deps.studies.get(study_id)
        if study is None:
            raise UnknownStudy(f"there is no study {study_id!r}", field="study")
        if body.purpose not in study.purpose_ids:
            raise InvalidInput(
                f"{body.purpose!r} is not a purpose of this study "
                f"(it has {', '.join(study.purpose_ids)})",
                field="purpose",
            )
        body_hash = request_digest(body.canonical())
        stored_key = key_hash(idempotency_key) if idempotency_key is not None else None
        now = self.deps.clock()
        async with self.deps.db.transaction() as session:
            accesses = AccessRepository(session)
            if stored_key is not None and (
                earlier := await self._earlier(accesses, study_id, stored_key, body_hash)
            ):
                return earlier
            named = await accesses.named(study_id, body.participants)
            await accesses.lock_contacts({n.contact_id for n in named.values()})
            statuses = await accesses.statuses(
                body.purpose, [n.participant_id for n in named.values()]
            )
            recorded: list[str] = []
            refused: list[dict[str, str]] = []
            for reference in body.participants:
                found = named.get(reference)
                if found is None:
                    refused.append({"participant": reference, "status": UNKNOWN})
                    continue
                status = statuses.get(found.participant_id, ConsentStatus.NONE.value)
                if status == ConsentStatus.ACTIVE.value:
                    recorded.append(reference)
                else:
                    refused.append({"participant": reference, "status": status})
            # The chain's lock comes after the contacts', in every request: no deadlock.
            chain = await accesses.lock_chain(study_id)
            if stored_key is not None and (
                earlier := await self._earlier(accesses, study_id, stored_key, body_hash)
            ):
                return earlier  # the same request, retried while the first was recording
            access_id = None
            if recorded:
                new = NewAccess(
                    study_id=study_id,
                    purpose_id=body.purpose,
                    accessor_name=body.accessor_name,
                    accessor_organisation=body.accessor_organisation,
                    accessor_kind=body.accessor_kind,
                    dataset=body.dataset,
                    reason=body.reason,
                )
                ids = [named[reference].participant_id for reference in recorded]
                access_id = (await accesses.append(chain, new, ids, now)).id
            answer = json.dumps(
                {"access": access_id, "recorded": recorded, "refused": refused},
                separators=(",", ":"),
                ensure_ascii=False,
            )
            if stored_key is not None:
                accesses.remember(study_id, stored_key, body_hash, answer, now)
        log.info(
            "access.recorded",
            study=study_id,
            access=access_id,
            purpose=body.purpose,
            recorded=len(recorded),
            refused=len(refused),
        )
        return AccessAnswer(answer, replayed=False)

    @staticmethod
    async def _earlier(
        accesses: AccessRepository, study_id: str, stored_key: str, body_hash: str
    ) -> AccessAnswer | None:
        earlier = await accesses.answered(study_id, stored_key)
        if earlier is None:
            return None
        if earlier.body_hash != body_hash:
            raise Conflict(
                "this Idempotency-Key was already used for a different request: "
                "use a new key for a new request",
                field="Idempotency-Key",
            )
        return AccessAnswer(earlier.response, replayed=True)

    async def of_participant(self, participant_id: int) -> list[AccessSeen]:
        """The accesses to one participant's data, newest first."""
        async with self.deps.db.read() as session:
            rows = await AccessRepository(session).of_participant(participant_id)
        return [seen_by_participant(row) for row in rows]
