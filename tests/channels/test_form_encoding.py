"""Form bodies for the providers' APIs: byte for byte what the standard library encodes."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from hypothesis import given
from hypothesis import strategies as st

from consentbot.channels.form_encoding import form_body

forms = st.dictionaries(st.text(min_size=1), st.text(), max_size=6)


@given(forms)
def test_the_body_is_what_urlencode_gives(form: dict[str, str]) -> None:
    assert form_body(form) == urlencode(form).encode()


@given(forms)
def test_the_body_reads_back_as_the_form(form: dict[str, str]) -> None:
    read = parse_qsl(form_body(form).decode("ascii"), keep_blank_values=True)
    assert dict(read) == form


def test_a_message_keeps_its_spaces_symbols_and_letters_of_other_alphabets() -> None:
    body = form_body({"To": "+447400900123", "Body": "Tak & nie: 50% / بالکل ٹھیک"})
    assert body.startswith(b"To=%2B447400900123&Body=Tak+%26+nie%3A+50%25+%2F+%D8%A8")
    assert body.isascii()
