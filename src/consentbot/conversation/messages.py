"""Every sentence the bot says that is not study content, through the gettext catalogs.

Keywords are passed in as placeholders so a translation always names the word
that works in that language. Plain words, short sentences: "time to think" rather
than "cooling-off", "leave the study" alongside "withdraw".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from consentbot.content.model import Contact, PurposeText, StudyText, Topic
from consentbot.conversation.shown import with_keywords
from consentbot.conversation.vocabulary import Command, Vocabulary
from consentbot.i18n.translator import Translator

_SHOWN: dict[tuple[int, int], tuple[StudyText, Vocabulary, StudyText]] = {}
"""Study texts with their keywords filled, by (text, vocabulary): see :meth:`Say.shown`."""
_SHOWN_LIMIT = 256


class Say:
    """Renders replies in one language for one study."""

    def __init__(self, t: Translator, vocabulary: Vocabulary, zone: ZoneInfo) -> None:
        self.t = t
        self.v = vocabulary
        self.zone = zone

    def _kw(self) -> Mapping[str, str]:
        return self.v.placeholders

    def _ltr(self, value: str) -> str:
        return self.t.isolate(value)

    def _when(self, moment: datetime) -> str:
        return self.t.date_and_time(moment, self.zone)

    def shown(self, text: StudyText) -> StudyText:
        """``text`` as this person reads it: keyword placeholders filled in their language."""
        # Every turn starts from the study's whole text: fill it once per text and
        # language, not once per turn (a morning's reminders would refill it thousands of
        # times). The entry holds both keys, so their ids cannot be reused while cached.
        key = (id(text), id(self.v))
        hit = _SHOWN.get(key)
        if hit is not None and hit[0] is text and hit[1] is self.v:
            return hit[2]
        filled = with_keywords(text, self._kw())
        if len(_SHOWN) >= _SHOWN_LIMIT:
            _SHOWN.clear()  # old published versions: rarely more than a few dozen texts
        _SHOWN[key] = (text, self.v, filled)
        return filled

    def untranslated_note(self, text: StudyText, part: str | None = None) -> str | None:
        """A note, in the person's language, that study content is not translated yet.

        ``text`` is what :meth:`Study.text` gave for this person: another language's text
        when theirs is missing or stale, or theirs with ``part`` taken from the default
        language. None when the content is in their language.
        """
        if text.language == self.t.language and (part is None or part not in text.untranslated):
            return None
        # The language it is in, named in theirs ("angielski"), not in its own ("English").
        name = self.t.locale.languages.get(text.language) or self.t.language_name(text.language)
        return self.t.gettext("This part is not translated yet, so it is in {language}.").format(
            language=name
        )

    def _noted(self, text: StudyText, body: str) -> str:
        note = self.untranslated_note(text)
        return f"{note}\n{body}" if note else body

    def invitation(self, text: StudyText, link: str | None = None) -> str:
        _ = self.t.gettext
        parts = [
            self._noted(text, f"{text.title}\n{text.summary}"),
            _(
                "Reply {more} to read more, {yes} to choose, or {no} to say no. "
                "Nothing counts until you confirm. Reply {stop} for no more texts."
            ).format(**self._kw()),
        ]
        if link:
            parts.append(_("Or answer on the web: {link}").format(link=self._ltr(link)))
        return "\n\n".join(parts)

    def welcome_back(self, text: StudyText) -> str:
        return self.t.gettext("Welcome back to {title}.").format(title=text.title)

    def topic_list(self, text: StudyText) -> str:
        lines = [f"{index}. {topic.title}" for index, topic in enumerate(text.topics, start=1)]
        count = len(text.topics)
        footer = self.t.ngettext(
            "Reply {number} to read about it.",
            "Reply with a number from 1 to {number} to read about one.",
            count,
        ).format(number=count)
        return self._noted(text, "\n".join([*lines, footer]))

    def topic_summary(self, text: StudyText, topic: Topic) -> str:
        footer = self.t.gettext(
            "Reply {more} for more, another number for another topic, or {yes} to choose."
        ).format(**self._kw())
        return self._noted(text, f"{topic.title}\n{topic.summary}\n\n{footer}")

    def topic_detail(self, text: StudyText, topic: Topic, *, last: bool) -> str:
        if last:
            footer = self.t.gettext(
                "That was the last topic. Reply {yes} to make your choices, "
                "or a number to read a topic again."
            ).format(**self._kw())
        else:
            footer = self.t.gettext(
                "Reply {more} for the next topic, or {yes} to make your choices."
            ).format(**self._kw())
        return self._noted(text, f"{topic.detail}\n\n{footer}")

    def bad_topic_number(self, count: int) -> str:
        return self.t.ngettext(
            "There is only {count} topic. Reply 1 to read it.",
            "Please reply with a number from 1 to {count}.",
            count,
        ).format(count=count)

    def choices_intro(self, count: int) -> str:
        return self.t.ngettext(
            "There is {count} question about how your data may be used. Each one is your choice.",
            "There are {count} questions about how your data may be used. "
            "Each one is your own choice.",
            count,
        ).format(count=count)

    def time_to_think(self, period: timedelta) -> str:
        return self.t.gettext(
            "After you answer, you have {duration} to think before anything counts."
        ).format(duration=self.t.duration(period))

    def change_intro(self) -> str:
        return self.t.gettext(
            "Let us go through your choices again. A no takes effect at once. "
            "A new yes needs time to think again before it counts."
        )

    def question(
        self, text: StudyText, number: int, total: int, purpose: PurposeText, *, required: bool
    ) -> str:
        _ = self.t.gettext
        head = _("Question {number} of {total}: {title}").format(
            number=number, total=total, title=purpose.title
        )
        lines = [head, purpose.question]
        if required:
            lines.append(_("You need to say yes to this one to take part."))
        lines.append(_("Reply {yes} or {no}. Reply {more} to hear more.").format(**self._kw()))
        return self._noted(text, "\n".join(lines))

    def explanation(self, text: StudyText, purpose: PurposeText) -> str:
        footer = self.t.gettext("Reply {yes} or {no}.").format(**self._kw())
        return self._noted(text, f"{purpose.explanation}\n\n{footer}")

    def answers_wait(self, opens_at: datetime, expires_at: datetime) -> str:
        return self.t.gettext(
            "Thank you. Your answers are saved, but they do not count yet: "
            "take time to think. From {opens} you can reply {confirm} to make them count. "
            "We will remind you. If you do not confirm by {expires}, they will not count."
        ).format(opens=self._when(opens_at), expires=self._when(expires_at), **self._kw())

    def answers_saved(self) -> str:
        return self.t.gettext(
            "Thank you. Your choices are saved. Reply {choices} to check them "
            "or {change} to change them at any time."
        ).format(**self._kw())

    def declined_study(self, text: StudyText, keyword: str) -> str:
        return self.t.gettext(
            "Thank you. You have said no to taking part in {title}. "
            "This does not affect your care. We will not ask again. "
            "If you change your mind, reply {keyword}."
        ).format(title=text.title, keyword=self._ltr(keyword))

    def no_question(self) -> str:
        return self.t.gettext(
            "There is no question waiting for an answer. Reply {choices} to see your choices, "
            "or {withdraw} to leave the study."
        ).format(**self._kw())

    def confirm_too_early(self, opens_at: datetime) -> str:
        return self.t.gettext(
            "Not yet: you still have time to think. You can confirm from {opens}. "
            "Nothing has changed."
        ).format(opens=self._when(opens_at))

    def nothing_to_confirm(self) -> str:
        return self.t.gettext(
            "There is nothing waiting to be confirmed. Reply {choices} to see your choices."
        ).format(**self._kw())

    def confirmed(self, titles: Sequence[str], still_waiting_from: datetime | None) -> str:
        _ = self.t.gettext
        head = self.t.ngettext(
            "Thank you. This choice now counts:",
            "Thank you. These choices now count:",
            len(titles),
        )
        lines = [head, *(f"- {title}" for title in titles)]
        if still_waiting_from is not None:
            lines.append(
                _("Your other new answers can be confirmed from {opens}.").format(
                    opens=self._when(still_waiting_from)
                )
            )
        lines.append(
            _(
                "You can reply {choices} to check, {change} to change or {withdraw} "
                "to leave the study at any time."
            ).format(**self._kw())
        )
        return "\n".join(lines)

    def status_line(self, title: str, status: str, pending_from: datetime | None) -> str:
        _ = self.t.gettext
        labels = {
            "none": _("not answered yet"),
            "active": _("yes"),
            "declined": _("no"),
            "withdrawn": _("no (you withdrew)"),
            "expired": _("not confirmed in time, so it does not count"),
            "reconsent_required": _(
                "the study changed this, so your earlier yes does not count. Please answer again"
            ),
        }
        if status == "pending":
            if pending_from is not None:
                label = _("yes, but it does not count until you confirm (from {opens})").format(
                    opens=self._when(pending_from)
                )
            else:
                label = _("yes, but it does not count until you confirm")
        else:
            label = labels[status]
        return f"- {title}: {label}"

    def choices(self, lines: Sequence[str], *, stopped: bool, title: str | None = None) -> str:
        _ = self.t.gettext
        heading = (
            _("Your choices for {title}:").format(title=title) if title else _("Your choices:")
        )
        parts = [
            heading,
            *lines,
            _("Reply {change} to change them.").format(**self._kw()),
        ]
        if stopped:
            parts.append(
                _("You have asked for no messages. Reply {start} to get them again.").format(
                    **self._kw()
                )
            )
        return "\n".join(parts)

    def withdrawn(self, text: StudyText, contact: Contact, keyword: str) -> str:
        return self.t.gettext(
            "You have left {title}. From now on, your data will not be used for anything new. "
            "Your care is not affected. To ask for your data to be deleted where that is still "
            "possible, call {phone} or email {email}. To join again, reply {keyword}."
        ).format(
            title=text.title,
            phone=self._ltr(contact.phone),
            email=self._ltr(contact.email),
            keyword=self._ltr(keyword),
        )

    def nothing_to_withdraw(self, keyword: str) -> str:
        return self.t.gettext(
            "You have not said yes to anything in this study, so there is nothing to withdraw. "
            "We will not use your data. To read about the study, reply {keyword}."
        ).format(keyword=self._ltr(keyword))

    def later(self, when: datetime) -> str:
        return self.t.gettext(
            "No problem. We will remind you on {when}. Reply {stop} if you want no more messages."
        ).format(when=self._when(when), **self._kw())

    def help(self, text: StudyText, contact: Contact) -> str:
        return self.t.gettext(
            "{title}. Questions? Call {phone} or email {email}.\n"
            "You can reply: {more} (read more), {yes}, {no}, {choices} (see your choices), "
            "{change}, {confirm}, {withdraw} (leave the study), {later} (remind me later), "
            "{language}, {stop} (no more messages)."
        ).format(
            title=text.title,
            phone=self._ltr(contact.phone),
            email=self._ltr(contact.email),
            **self._kw(),
        )

    def stopped(self) -> str:
        return self.t.gettext(
            "You will get no more messages from us. Your choices about your data have not "
            "changed. To leave the study as well, reply {withdraw} (we will not reply). "
            "To get messages again, reply {start}."
        ).format(**self._kw())

    def started(self) -> str:
        return self.t.gettext("You will get messages from us again. Reply {help} for help.").format(
            **self._kw()
        )

    def language_list(self, names: Sequence[tuple[str, str]]) -> str:
        lines = [f"{name} ({code.upper()})" for code, name in names]
        footer = self.t.gettext("Reply with a language to change to it.")
        return "\n".join([*lines, footer])

    def language_set(self, name: str) -> str:
        return self.t.gettext("From now on we will write to you in {language}.").format(
            language=name
        )

    def not_understood(self, *, asking: bool) -> str:
        _ = self.t.gettext
        if asking:
            return _(
                "Sorry, I did not understand. Please reply {yes} or {no}. "
                "Reply {more} to hear more."
            ).format(**self._kw())
        return _("Sorry, I did not understand. Reply {more}, {yes}, {help} or {stop}.").format(
            **self._kw()
        )

    def verify_first(self) -> str:
        return self.t.gettext(
            "Before your answers can count, we need to check your mobile number. "
            "This lets you check, change or withdraw later by text as well. "
            "We will text you a code."
        )

    def verification_code(self, code: str, title: str) -> str:
        return self.t.gettext(
            "{title}: your code is {code}. Type it on the web page to link it to your number. "
            "Never share it: nobody from the study will ever ask you for it. "
            "It works for 10 minutes. If you did not ask for it, ignore this message."
        ).format(code=code, title=title)

    def number_verified(self) -> str:
        return self.t.gettext(
            "Thank you. Your number is checked. You can now answer here or by text."
        )

    def question_moved_on(self, *, waiting: bool) -> str:
        _ = self.t.gettext
        if waiting:
            return _(
                "That answer was for a question that has moved on, so we have not used it. "
                "This is the question waiting for your answer now:"
            )
        return _(
            "That answer was for a question that has moved on, so we have not used it. "
            "No question is waiting for an answer now. Reply {choices} to see your choices."
        ).format(**self._kw())

    def question_not_answer(self, word: str, contact: Contact) -> str:
        return self.t.gettext(
            "That looks like a question, so nothing has changed. Reply {more} to hear more, "
            "or call {phone}. If you meant {word}, reply {word} on its own, "
            "with no question mark."
        ).format(word=self._ltr(word), phone=self._ltr(contact.phone), **self._kw())

    def say_it_alone(self, word: str, *, letter: bool) -> str:
        _ = self.t.gettext
        if letter:
            return _(
                "To be sure we get it right, nothing has changed. "
                "If you meant {word}, please reply {word} in full."
            ).format(word=self._ltr(word))
        return _(
            "To be sure we get it right, nothing has changed. "
            "If you meant {word}, please reply {word} on its own."
        ).format(word=self._ltr(word))

    def start_from_phone(self) -> str:
        return self.t.gettext(
            "You asked for no messages by texting from your phone, so only your phone can "
            "turn them back on: text {start} to us from it."
        ).format(**self._kw())

    def which_study(self, command: Command | None, keywords: Sequence[str]) -> str:
        _ = self.t.gettext
        if command is None:
            options = self.t.either([self._ltr(keyword) for keyword in keywords])
            return _(
                "You take part in more than one study. Which one is your message about? "
                "Please start your message with its word: {options}."
            ).format(options=options)
        word = self.v.word(command)
        options = self.t.either([self._ltr(f"{word} {keyword}") for keyword in keywords])
        return _(
            "You take part in more than one study, so nothing has changed yet. "
            "To say which one, reply {options}."
        ).format(options=options)

    def not_joined(self, keyword: str) -> str:
        return self.t.gettext(
            "You are not taking part in {keyword}, so nothing has changed. "
            "To read about it, reply {keyword}."
        ).format(keyword=self._ltr(keyword))

    def participation_erased(self, text: StudyText, contact: Contact) -> str:
        return self.t.gettext(
            "You asked us to delete your data for {title}, so this conversation has ended. "
            "To talk about taking part again, call {phone} or email {email}."
        ).format(title=text.title, phone=self._ltr(contact.phone), email=self._ltr(contact.email))

    def unknown_number(self) -> str:
        return self.t.gettext(
            "Sorry, we do not know which study this is about. "
            "To read about a study, send the word in your invitation."
        )

    def confirm_reminder(self, text: StudyText, expires_at: datetime) -> str:
        return self.t.gettext(
            "Hello from {title}. Your time to think is over. To make your answers count, "
            "reply {confirm} by {expires}. Reply {choices} to check them first, or {change} "
            "to change them. If you have changed your mind, do nothing: they will not count."
        ).format(title=text.title, expires=self._when(expires_at), **self._kw())

    def expired(self, text: StudyText, keyword: str) -> str:
        return self.t.gettext(
            "Your answers for {title} were not confirmed in time, so they do not count. "
            "Your data will not be used for them. To start again, reply {keyword}."
        ).format(title=text.title, keyword=self._ltr(keyword))

    def later_reminder(self, text: StudyText) -> str:
        return self.t.gettext(
            "Hello again from {title}. You asked us to remind you. "
            "Reply {more} to read about the study, or {yes} to make your choices. "
            "If you would rather not take part, that is fine: you do not need to do anything."
        ).format(title=text.title, **self._kw())

    def study_changed_notice(self, text: StudyText, changes: str) -> str:
        footer = self.t.gettext(
            "You do not need to do anything: your choices stay as they are. "
            "Reply {choices} to check them or {change} to change them."
        ).format(**self._kw())
        head = self.t.gettext("{title} has changed.").format(title=text.title)
        return f"{head}\n{self._changes(text, changes)}\n\n{footer}"

    def study_changed_ask_again(
        self, text: StudyText, changes: str, count: int, answer_by: datetime
    ) -> str:
        head = self.t.gettext("{title} has changed.").format(title=text.title)
        ask = self.t.ngettext(
            "Because of this, your earlier yes to the question below does not count now. "
            "Please answer it again by {date}. If you do not, we will not use your data for it.",
            "Because of this, your earlier yes to the {count} questions below does not count "
            "now. Please answer them again by {date}. If you do not, we will not use your "
            "data for them.",
            count,
        ).format(count=count, date=self._when(answer_by))
        return f"{head}\n{self._changes(text, changes)}\n\n{ask}"

    def _changes(self, text: StudyText, changes: str) -> str:
        """What changed, under a note when it is not in the person's language."""
        note = self.untranslated_note(text, "changes")
        return f"{note}\n{changes}" if note else changes

    def reconsent_expired(self, text: StudyText, titles: Sequence[str]) -> str:
        head = self.t.ngettext(
            "You did not answer this changed question for {title} in time, so your "
            "earlier yes does not count and we will not use your data for it:",
            "You did not answer these changed questions for {title} in time, so your "
            "earlier yes does not count and we will not use your data for them:",
            len(titles),
        ).format(title=text.title)
        footer = self.t.gettext("To answer now, reply {change}.").format(**self._kw())
        return "\n".join([head, *(f"- {title}" for title in titles), footer])
