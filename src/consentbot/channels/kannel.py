"""Kannel adapter: MT through smsbox's ``sendsms`` HTTP interface, MO through an ``sms-service``.

Outbound, :class:`KannelGateway` calls ``GET /cgi-bin/sendsms`` with ``username``,
``password``, ``to``, ``text``, ``from`` (when a sender is set) and ``charset=UTF-8``;
a UCS-2 message adds ``coding=2``. The text always travels as UTF-8 and smsbox
converts it: to its internal UTF-8 for GSM (``coding`` 0, the default) and to
UTF-16BE for UCS-2. Kannel 1.4.5 answers ``202 "0: Accepted for delivery"`` (or
``"3: Queued for later delivery"``); it has no message id of its own to return
there, so :meth:`KannelGateway.send` returns our outbox reference.

Long texts: the ``sendsms-user`` needs ``max-messages`` > 1 (Kannel truncates to
that many parts) and ``concatenation = true``; bearerbox then splits the text
into 153-septet / 67-character parts with a concatenation UDH. Send the whole
text in one call.

Inbound, Kannel's smsbox calls the ``get-url`` of an ``sms-service``::

    group = sms-service
    keyword = default
    get-url = "http://HOST:PORT/sms/kannel/inbound?token=SECRET&from=%p&to=%P&id=%I&coding=%c&charset=%C&text=%b"
    max-messages = 0
    omit-empty = true
    accept-x-kannel-headers = false

``%b`` is the message payload byte for byte, URL-encoded: UTF-8 for a GSM
(coding 0) message, UTF-16BE for a UCS-2 (coding 2) one. smsbox does not convert
UCS-2 for the get-url, so the handler takes ``%c`` (coding) and ``%C`` (charset:
``UTF-8``, ``UTF-16BE``, or the message's own charset) and decodes the raw bytes
itself. ``%a`` is not used: it splits the payload at whitespace *bytes* and joins
the words with ``+``, which collapses runs of spaces and newlines and corrupts
UTF-16 whose code units contain 0x09-0x0D or 0x20 bytes. Do not set
``alt-charset`` on the service (it re-encodes GSM text without changing ``%C``).
``max-messages = 0`` (with ``omit-empty``) stops smsbox from sending our HTTP
response body back as a reply: replies go through ``sendsms``.
"""

from __future__ import annotations

import codecs
import hmac
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Final
from urllib.parse import quote, unquote_to_bytes

import aiohttp
from aiohttp import web

from consentbot.channels.gateway import (
    DeliveryHandler,
    GatewayError,
    InboundHandler,
    InboundSms,
    OutboundSms,
    OutcomeUnknown,
)

__all__ = [
    "DLR_STATUS",
    "INBOUND_PATH",
    "STATUS_PATH",
    "KannelGateway",
    "decode_kannel_text",
    "kannel_routes",
    "status_url",
]

log = logging.getLogger(__name__)

INBOUND_PATH: Final = "/sms/kannel/inbound"
"""Where Kannel's ``sms-service`` get-url points."""

_DLR_MASK: Final = "27"
"""Kannel dlr-mask: 1 delivered + 2 undelivered + 8 accepted by SMSC + 16 rejected by SMSC."""

_CODING_UCS2: Final = "2"
_BODY_SNIPPET: Final = 200


class KannelGateway:
    """Sends SMS through Kannel smsbox's ``sendsms`` HTTP interface."""

    name = "kannel"

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        sendsms_url: str,
        username: str,
        password: str,
        sender: str | None,
        dlr_url: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        """Configure the gateway.

        ``sendsms_url`` is smsbox's sendsms URL, e.g.
        ``http://127.0.0.1:13013/cgi-bin/sendsms``. ``sender`` is the ``from``
        (short code or number); with ``None`` Kannel's ``global-sender`` (or the
        sendsms-user's ``default-sender``) must be configured, otherwise smsbox
        rejects the message with 400. ``dlr_url``, when set, is passed as Kannel's
        ``dlr-url`` with ``dlr-mask=27``; it may use Kannel's escape codes (``%d``
        the DLR type, ``%A`` the SMSC answer, ...) and ``{reference}``, which is
        replaced by the URL-encoded outbox reference. ``timeout`` bounds each call.
        """
        self._session = session
        self._sendsms_url = sendsms_url
        self._username = username
        self._password = password
        self._sender = sender
        self._dlr_url = dlr_url
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    def _params(self, message: OutboundSms) -> dict[str, str]:
        params = {
            "username": self._username,
            "password": self._password,
            "to": message.to,
            "text": message.text,
            "charset": "UTF-8",
        }
        if message.ucs2:
            params["coding"] = _CODING_UCS2
        if self._sender:
            params["from"] = self._sender
        if self._dlr_url:
            params["dlr-mask"] = _DLR_MASK
            params["dlr-url"] = self._dlr_url.replace(
                "{reference}", quote(message.reference, safe="")
            )
        return params

    async def send(self, message: OutboundSms) -> str:
        """Hand one message to Kannel; return its outbox reference as the id.

        Raises :class:`GatewayError`: retryable for 5xx (Kannel answers 503 on a
        temporary failure), 408, 429, timeouts and connection errors; not
        retryable for other 4xx (bad credentials, a rejected number or sender)
        and anything else unexpected.
        """
        try:
            async with self._session.get(
                self._sendsms_url,
                params=self._params(message),
                timeout=self._timeout,
                allow_redirects=False,
            ) as response:
                status = response.status
                body = (await response.read())[:_BODY_SNIPPET].decode("utf-8", errors="replace")
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            # Never connected: smsbox cannot have queued it, so trying again is safe.
            raise GatewayError(
                f"Kannel sendsms unreachable: {type(exc).__name__}", retryable=True
            ) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            # The request may have reached smsbox, which queues as soon as it reads it:
            # sending again could text the person twice.
            raise OutcomeUnknown(
                f"Kannel sendsms gave no answer once the request was sent ({type(exc).__name__})"
            ) from exc

        body = body.strip()
        if 200 <= status < 300:
            log.debug("kannel accepted %s: %s", message.reference, body)
            return message.reference
        retryable = status >= 500 or status in (408, 429)
        raise GatewayError(
            f"Kannel sendsms answered {status}: {body}",
            retryable=retryable,
            code=str(status),
        )


def _raw_query(query_string: str) -> dict[str, bytes]:
    """Split a still percent-encoded query into names and raw (undecoded) byte values.

    The first occurrence of a name wins. ``+`` means a space, as Kannel encodes it.
    """
    params: dict[str, bytes] = {}
    for field in query_string.split("&"):
        if not field:
            continue
        raw_name, _, raw_value = field.partition("=")
        name = unquote_to_bytes(raw_name.replace("+", " ")).decode("utf-8", errors="replace")
        if name not in params:
            params[name] = unquote_to_bytes(raw_value.replace("+", " "))
    return params


_CHARSET_ALIASES: Final = {
    "ucs-2": "utf-16-be",
    "ucs2": "utf-16-be",
    "ucs-2be": "utf-16-be",
    "iso-10646-ucs-2": "utf-16-be",
}


def _codec(charset: str | None) -> str | None:
    if not charset:
        return None
    name = _CHARSET_ALIASES.get(charset.strip().lower(), charset.strip())
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_kannel_text(raw: bytes, coding: str | None, charset: str | None) -> str:
    """Decode a Kannel ``%b`` payload given its ``%c`` coding and ``%C`` charset.

    Kannel keeps GSM (coding 0) text as UTF-8 and UCS-2 (coding 2) text as
    UTF-16BE. A charset Python knows wins; otherwise coding 2 means UTF-16BE and
    anything else UTF-8. Undecodable bytes become U+FFFD rather than losing the
    message (a garbled character is better than a dropped "STOP").
    """
    codec = _codec(charset)
    if codec is None:
        codec = "utf-16-be" if (coding or "").strip() == _CODING_UCS2 else "utf-8"
    return raw.decode(codec, errors="replace")


STATUS_PATH = "/sms/kannel/status"

DLR_STATUS = {
    "1": "delivered",
    "2": "undelivered",
    "4": "queued",
    "8": "submitted",
    "16": "rejected",
}
"""Kannel's delivery-report types (``%d`` in a dlr-url) as delivery statuses."""


def status_url(base: str, token: str) -> str:
    """The dlr-url to give Kannel: our status route with the token, the reference and ``%d``.

    The reference is the outbox row's random one, so a report cannot be forged by counting.
    """
    return f"{base}?token={quote(token, safe='')}&ref={{reference}}&type=%d"


def kannel_routes(
    *,
    on_inbound: InboundHandler,
    token: str,
    now: Callable[[], datetime],
    on_status: DeliveryHandler | None = None,
) -> list[web.RouteDef]:
    """Routes for Kannel's sms-service get-url: ``GET`` (and ``POST``) :data:`INBOUND_PATH`.

    Query: ``from``, ``to``, ``id`` (Kannel's ``%I``), ``text`` (``%b``),
    ``coding`` (``%c``), ``charset`` (``%C``) and ``token``. A request without
    the same ``token`` (compared in constant time) gets 403 and is not handled. A
    request without ``from`` or ``id`` gets 400. Otherwise the message goes to
    ``on_inbound`` and the answer is 200 with an empty body.

    With ``on_status``, ``GET`` :data:`STATUS_PATH` takes Kannel's delivery reports
    (``token``, ``ref``: the outbox reference, ``type``: Kannel's ``%d``), checked the
    same way, and passes ``(reference, status, None)`` on.
    """
    if not token:
        raise ValueError("token must not be empty: the routes would act for any number")
    expected = token.encode("utf-8")

    def authorised(request: web.Request, params: dict[str, bytes]) -> bool:
        given = params.get("token")
        if given is not None and hmac.compare_digest(given, expected):
            return True
        # The address only: the query carries the number and the text.
        log.warning("kannel %s: bad or missing token from %s", request.path, request.remote)
        return False

    async def inbound(request: web.Request) -> web.Response:
        params = _raw_query(request.rel_url.raw_query_string)
        if not authorised(request, params):
            return web.Response(status=403, text="forbidden")

        def text_param(name: str) -> str:
            return params.get(name, b"").decode("utf-8", errors="replace").strip()

        sender = text_param("from")
        message_id = text_param("id")
        if not sender or not message_id:
            return web.Response(status=400, text="from and id are required")
        coding = text_param("coding") or None
        charset = text_param("charset") or None
        sms = InboundSms(
            gateway="kannel",
            gateway_message_id=message_id,
            sender=sender,
            recipient=text_param("to"),
            text=decode_kannel_text(params.get("text", b""), coding, charset),
            received_at=now(),
        )
        await on_inbound(sms)
        return web.Response(status=200)

    async def status(request: web.Request) -> web.Response:
        params = _raw_query(request.rel_url.raw_query_string)
        if not authorised(request, params):
            return web.Response(status=403, text="forbidden")
        reference = params.get("ref", b"").decode("ascii", errors="replace")
        kind = params.get("type", b"").decode("ascii", errors="replace")
        if not reference or kind not in DLR_STATUS:
            return web.Response(status=400, text="ref and a known type are required")
        if on_status is not None:
            await on_status(reference, DLR_STATUS[kind], None)
        return web.Response(status=200)

    routes = [
        web.get(INBOUND_PATH, inbound, allow_head=False),
        web.post(INBOUND_PATH, inbound),
    ]
    if on_status is not None:
        routes.append(web.get(STATUS_PATH, status, allow_head=False))
    return routes
