"""A real Kannel 1.4.5 (bearerbox + smsbox + fakesmsc) around an HTTP service under test.

Design
------
``bearerbox`` gets one ``smsc = fake`` connection; a single ``fakesmsc`` process
connects to it for the whole test and plays every phone:

* **MO on demand.** ``fakesmsc`` started with *no* message arguments enters its
  interactive mode: it reads one message line ("sender receiver type data") from
  stdin whenever stdin is readable and sends it to bearerbox. So the harness keeps
  fakesmsc's stdin as a pipe and writes one line per :meth:`send_from_phone`. Two
  quirks of fakesmsc shape this: it reads stdin with ``fgets`` into a 256-byte
  buffer (a line may be at most 255 bytes, newline included), and lines written
  back to back can sit in stdio's buffer unseen by ``select``. So lines are written
  one at a time, each after fakesmsc logged "sent message N" for the previous one
  (a stuck line is nudged out by an empty line, which fakesmsc ignores).
  GSM text goes as type ``text`` (raw UTF-8, Kannel's internal form for 7-bit);
  UCS-2 as type ``ucs2`` (URL-encoded UTF-16BE).
* **Every MT captured.** fakesmsc logs each line bearerbox sends it as
  ``DEBUG: Got message N: <sender receiver type data>`` on stderr (its stdout
  stays empty). Kannel 1.4.5's fake SMSC writes ``text <raw UTF-8>`` for GSM,
  ``ucs-2 <URL-encoded UTF-16BE>`` for UCS-2, ``data <URL-encoded>`` for 8-bit and
  ``udh <URL-encoded UDH> data <URL-encoded payload>`` for each part of a
  concatenated message. The harness reads that stream, reassembles parts by their
  concatenation UDH (IEI 0x00 or 0x08), decodes the text and queues it per phone
  for :meth:`next_reply`. In interactive mode fakesmsc only reads its bearerbox
  socket after ``select`` on stdin times out (1 s); while a test waits for an MT
  the harness writes an empty line every 50 ms, so replies arrive in milliseconds.

  A ``udh`` line does not say the coding. The harness decides from the bytes:
  valid UTF-8 without control characters is GSM text, anything else (UTF-16BE of
  Latin text has NUL bytes, of Urdu 0x06 bytes) is UCS-2. Only UCS-2 text made
  entirely of code units whose two bytes are printable ASCII (e.g. some CJK) could
  be mistaken, which the tests never send. ``MtMessage.coding`` reports the guess.
* **Line breaks in GSM text.** The fake protocol is line based and Kannel writes
  a single-part GSM MT raw (``text Line one\nLine two``), so fakesmsc reads the
  one MT as several lines and logs each as its own ``Got message N`` line, with its
  own timestamp: the split happens in fakesmsc's socket reader, not in its log, so
  "a log line without a timestamp is a continuation" cannot work. The harness
  rejoins them exactly with the message's length from bearerbox's access log.
  After writing a message to the fake SMSC (all its parts, when concatenated)
  bearerbox logs it once, in that order, as ``Sent SMS ... [to:PHONE]
  [flags:-1:CODING:...] [msg:BYTES:SHOWN] [udh:0:]``, where SHOWN is the whole
  original text with every byte that is not printable ASCII shown as ``.``. The
  harness keeps these lines for GSM (coding 0) messages and hands them out in
  order: a concatenated GSM message, once all its parts are in, claims the first
  line with its exact length and SHOWN; a single-part one (type ``text``) claims
  the first line whose SHOWN starts like its first line, then takes the following
  fakesmsc lines (joined by ``\n``) until it has exactly BYTES bytes. So a
  continuation line is recognised by the byte count, never by its content: a reply
  line that itself looks like ``12345 +44... text ...`` or like a log line is still
  joined correctly, and so are empty lines and a trailing line break; SHOWN is a
  cross-check (a mismatch is noted in :attr:`unparsed`). One loss cannot be
  undone: fakesmsc's line reader drops a CR right before an LF; the harness then
  comes up short, stops at the next line that does not fit (or after
  :data:`CONTINUATION_WAIT`), delivers what it has and notes it in
  :attr:`unparsed`. UCS-2 MTs (``ucs-2``) and parts (``udh``) are URL-encoded,
  always one line.

All ports are free ports on 127.0.0.1 chosen at run time; config, logs and
access logs live in the given work directory (a pytest tmp dir). Startup is
bounded (``startup_timeout``); :meth:`stop` terminates, then kills, every process.
Errors carry the tail of every Kannel log.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import os
import re
import secrets
import string
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Literal
from urllib.parse import quote, quote_from_bytes, unquote_to_bytes

import aiohttp
import pytest

from consentbot.channels.kannel import INBOUND_PATH
from consentbot.testkit.ports import free_ports

BEARERBOX = Path(os.environ.get("KANNEL_BEARERBOX", "/usr/sbin/bearerbox"))
SMSBOX = Path(os.environ.get("KANNEL_SMSBOX", "/usr/sbin/smsbox"))
FAKESMSC = Path(os.environ.get("KANNEL_FAKESMSC", "/usr/lib/kannel/test/fakesmsc"))
TEMPLATE = Path(__file__).with_name("kannel.conf.template")

FAKESMSC_MAX_LINE = 255
"""fakesmsc reads stdin with fgets into a 256-byte buffer: longer lines are cut in two."""

Coding = Literal["gsm", "ucs2", "8bit"]

# fakesmsc log lines, "2026-01-01 10:00:00 [pid] [0] DEBUG: <message>". The prefix has
# no "<", so text inside an MT can never be taken for the log line's own message.
_GOT = re.compile(rb"^[^<]*\bGot message \d+: <(.*)>$")
_SENT = re.compile(rb"^[^<]*\bfakesmsc: sent message (\d+)$")
# bearerbox's access-log line for each MT written to the fake SMSC.
_ACCESS_SENT = re.compile(
    rb"\bSent SMS \[SMSC:[^\]]*\].*? \[to:([^\]]*)\] \[flags:-?\d+:(-?\d+):[-\d:]*\]"
    rb" \[msg:(\d+):(.*)\] \[udh:(\d+):[0-9A-Fa-f]*\]$"
)
ACCESS_LOG_WAIT = 10.0
"""How long a GSM MT waits for bearerbox's access-log line that gives its length."""
CONTINUATION_WAIT = 5.0
"""How long a GSM MT short of its length waits for its next line (normally instant)."""


class KannelHarnessError(RuntimeError):
    """Kannel did not start, died, or misbehaved; the message ends with its log tails."""


def require_kannel() -> None:
    """Skip the test when Kannel is not installed; fail instead when ``CI=true``."""
    missing = [str(p) for p in (BEARERBOX, SMSBOX, FAKESMSC) if not os.access(p, os.X_OK)]
    if not missing:
        return
    reason = (
        f"Kannel is not installed (missing {', '.join(missing)}); "
        "install Debian's kannel and kannel-extras packages"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}. CI=true, so this is a failure, not a skip.", pytrace=False)
    pytest.skip(reason)


@dataclass(frozen=True, slots=True)
class MtMessage:
    """One complete message Kannel sent towards a phone (all parts joined)."""

    sender: str
    receiver: str
    text: str
    coding: Coding
    parts: int


def _guess_decode(data: bytes) -> tuple[str, Coding]:
    """Decode the payload of UDH parts, whose coding the fake protocol does not carry."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("utf-16-be", errors="replace"), "ucs2"
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\r\t\f" for ch in text):
        return data.decode("utf-16-be", errors="replace"), "ucs2"
    return text, "gsm"


def _concat_info(udh: bytes) -> tuple[int, int, int] | None:
    """(reference, total, sequence) from a concatenation UDH, or None."""
    if not udh or udh[0] + 1 != len(udh):
        return None
    pos = 1
    while pos + 2 <= len(udh):
        iei, length = udh[pos], udh[pos + 1]
        value = udh[pos + 2 : pos + 2 + length]
        if iei == 0x00 and length == 3:
            return value[0], value[1], value[2]
        if iei == 0x08 and length == 4:
            return (value[0] << 8) | value[1], value[2], value[3]
        pos += 2 + length
    return None


@dataclass(frozen=True, slots=True)
class _SentGsm:
    """bearerbox's access-log line for one GSM MT: its length in bytes and how it shows it."""

    receiver: str
    length: int
    shown: bytes


def _shown(data: bytes) -> bytes:
    """``data`` as Kannel's access log shows GSM text: bytes other than printable ASCII as "."."""
    return bytes(b if 0x20 <= b < 0x7F else 0x2E for b in data)


def _starts_like(first_line: bytes, sent: _SentGsm) -> bool:
    """Whether ``sent`` can be the message whose first line is ``first_line``."""
    n = len(first_line)
    if sent.length < n or not sent.shown.startswith(_shown(first_line)):
        return False
    return sent.length == n or sent.shown[n : n + 1] == b"."  # "." shows the line break


def _read_from(path: Path, offset: int) -> bytes:
    """What ``path`` holds from ``offset`` on (nothing if it does not exist yet)."""
    try:
        with path.open("rb") as f:
            f.seek(offset)
            return f.read()
    except FileNotFoundError:
        return b""


def _tail(path: Path, lines: int) -> str:
    try:
        with path.open("rb") as f:
            data = f.read()
    except OSError as exc:
        return f"({exc})"
    tail = data.decode("utf-8", errors="replace").splitlines()[-lines:]
    return "\n".join(tail)


class KannelHarness:
    """bearerbox, smsbox and fakesmsc wired to an HTTP service on ``service_host:service_port``.

    Use as ``async with KannelHarness(...) as kannel:``. The ports (and so
    :attr:`sendsms_url`) are chosen in the constructor, so the service may be
    configured with them before Kannel starts. ``token`` is put into the get-url
    (``None``: an empty token parameter).
    """

    def __init__(
        self,
        *,
        service_host: str,
        service_port: int,
        workdir: Path,
        token: str | None,
        shortcode: str = "12345",
        inbound_path: str = INBOUND_PATH,
        startup_timeout: float = 20.0,
    ) -> None:
        self.service_host = service_host
        self.service_port = service_port
        self.workdir = workdir
        self.token = token
        self.shortcode = shortcode
        self.inbound_path = inbound_path
        self.startup_timeout = startup_timeout
        self.username = "consentbot"
        self.password = secrets.token_urlsafe(12)
        self.admin_password = secrets.token_urlsafe(12)
        (self.admin_port, self.smsbox_port, self.sendsms_port, self.fake_port) = free_ports(4)
        self.sendsms_url = f"http://127.0.0.1:{self.sendsms_port}/cgi-bin/sendsms"
        self.status_url = f"http://127.0.0.1:{self.admin_port}/status.txt"
        self.config_path = workdir / "kannel.conf"
        self.unparsed: list[str] = []
        """fakesmsc MT lines the harness could not parse, and anything odd it noticed."""

        self._bearerbox: asyncio.subprocess.Process | None = None
        self._smsbox: asyncio.subprocess.Process | None = None
        self._fakesmsc: asyncio.subprocess.Process | None = None
        self._files: list[IO[bytes]] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._session: aiohttp.ClientSession | None = None
        self._queues: dict[str, asyncio.Queue[MtMessage]] = collections.defaultdict(asyncio.Queue)
        self._parts: dict[tuple[str, str, int, int], dict[int, bytes]] = {}
        self._mt_lines: asyncio.Queue[bytes] = asyncio.Queue()
        """The payload of every ``Got message N: <...>`` line of fakesmsc, in order."""
        self._gsm_sent: list[_SentGsm] = []
        """bearerbox's access-log lines for GSM MTs not yet matched to fakesmsc's lines."""
        self._gsm_sent_changed = asyncio.Event()
        self._sent = 0
        self._sent_changed = asyncio.Event()
        self._send_lock = asyncio.Lock()
        self._died = asyncio.Event()
        self._stopping = False

    # ------------------------------------------------------------------ config

    def render_config(self) -> str:
        """The Kannel configuration for this harness (from ``kannel.conf.template``)."""
        workdir = str(self.workdir)
        if '"' in workdir or "\n" in workdir:
            raise ValueError(f"work directory unusable in a Kannel config: {workdir!r}")
        template = string.Template(TEMPLATE.read_text(encoding="utf-8"))
        return template.substitute(
            admin_port=self.admin_port,
            admin_password=self.admin_password,
            smsbox_port=self.smsbox_port,
            sendsms_port=self.sendsms_port,
            fake_port=self.fake_port,
            workdir=workdir,
            username=self.username,
            password=self.password,
            service_host=self.service_host,
            service_port=self.service_port,
            inbound_path=self.inbound_path,
            token=quote(self.token or "", safe=""),
        )

    # --------------------------------------------------------------- lifecycle

    async def __aenter__(self) -> KannelHarness:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Write the config, start bearerbox, fakesmsc and smsbox, wait until all are up."""
        require_kannel()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(self.render_config(), encoding="utf-8")
        access_log = self.workdir / "bearerbox-access.log"
        # bearerbox appends: a reused work directory keeps the lines of earlier runs.
        access_log_start = access_log.stat().st_size if access_log.exists() else 0
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2))
        try:
            async with asyncio.timeout(self.startup_timeout):
                self._bearerbox = await self._spawn_box(BEARERBOX, "bearerbox")
                self._tasks.append(
                    asyncio.create_task(self._tail_access_log(access_log, access_log_start))
                )
                self._tasks.append(asyncio.create_task(self._assemble_mts()))
                await self._wait_for(self._status_has_core, "bearerbox admin port")
                self._fakesmsc = await asyncio.create_subprocess_exec(
                    str(FAKESMSC),
                    "-v", "0",
                    "-H", "127.0.0.1",
                    "-r", str(self.fake_port),
                    "-i", "0",
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.STDOUT,
                    cwd=self.workdir,
                    start_new_session=True,
                )  # fmt: skip
                self._watch(self._fakesmsc, "fakesmsc")
                self._tasks.append(asyncio.create_task(self._read_fakesmsc(self._fakesmsc)))
                self._smsbox = await self._spawn_box(SMSBOX, "smsbox")
                await self._wait_for(self._status_all_online, "smsbox and fakesmsc online")
                await self._wait_for(self._sendsms_answers, "smsbox sendsms port")
        except BaseException as exc:
            logs = self.log_tails()
            await self.stop()
            if isinstance(exc, TimeoutError):
                raise KannelHarnessError(
                    f"Kannel did not start within {self.startup_timeout} s\n{logs}"
                ) from exc
            if isinstance(exc, KannelHarnessError):
                raise KannelHarnessError(f"{exc}\n{logs}") from exc
            raise

    async def stop(self) -> None:
        """Stop every process (SIGTERM, then SIGKILL after 5 s) and release resources."""
        self._stopping = True
        for proc in (self._fakesmsc, self._smsbox, self._bearerbox):
            if proc is None or proc.returncode is not None:
                continue
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 5)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None
        for f in self._files:
            f.close()
        self._files.clear()

    async def _spawn_box(self, binary: Path, name: str) -> asyncio.subprocess.Process:
        out = (self.workdir / f"{name}.stderr").open("ab")
        self._files.append(out)
        proc = await asyncio.create_subprocess_exec(
            str(binary),
            "-v", "2",
            str(self.config_path),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            cwd=self.workdir,
            start_new_session=True,
        )  # fmt: skip
        self._watch(proc, name)
        return proc

    def _watch(self, proc: asyncio.subprocess.Process, name: str) -> None:
        async def watch() -> None:
            code = await proc.wait()
            if not self._stopping:
                self.unparsed.append(f"{name} exited with status {code}")
                self._died.set()

        self._tasks.append(asyncio.create_task(watch()))

    async def _wait_for(self, check: Callable[[], Awaitable[bool]], what: str) -> None:
        while True:
            if self._died.is_set():
                raise KannelHarnessError(f"a Kannel process died while waiting for {what}")
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                if await check():
                    return
            await asyncio.sleep(0.1)

    async def _status(self) -> str | None:
        assert self._session is not None
        async with self._session.get(
            self.status_url, params={"password": self.admin_password}
        ) as response:
            if response.status != 200:
                return None
            return await response.text(errors="replace")

    async def _status_has_core(self) -> bool:
        status = await self._status()
        return status is not None and "Status: running" in status

    async def _status_all_online(self) -> bool:
        status = await self._status()
        if status is None:
            return False
        smsbox = any("smsbox:" in line and "on-line" in line for line in status.splitlines())
        fake = any(
            f"FAKE:{self.fake_port}" in line and "(online" in line for line in status.splitlines()
        )
        return smsbox and fake

    async def _sendsms_answers(self) -> bool:
        assert self._session is not None
        # No credentials: a running sendsms interface answers 403.
        async with self._session.get(self.sendsms_url) as response:
            return response.status in (200, 202, 400, 403)

    # ------------------------------------------------------------- fakesmsc I/O

    async def _read_fakesmsc(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        log = (self.workdir / "fakesmsc.log").open("ab")
        self._files.append(log)
        while line := await proc.stdout.readline():
            log.write(line)
            log.flush()
            line = line.removesuffix(b"\n")
            if m := _GOT.match(line):
                self._mt_lines.put_nowait(m.group(1))
            elif m := _SENT.match(line):
                self._sent = max(self._sent, int(m.group(1)))
                self._sent_changed.set()

    async def _tail_access_log(self, path: Path, offset: int) -> None:
        """Keep bearerbox's access-log line of every GSM MT (see "Line breaks in GSM text")."""
        pending = b""
        while True:
            data = _read_from(path, offset)
            offset += len(data)
            *lines, pending = (pending + data).split(b"\n")
            for line in lines:
                m = _ACCESS_SENT.search(line)
                if m is None:
                    continue
                to, coding, length, shown, udh = m.groups()
                if int(udh) == 0 and int(coding) in (-1, 0):
                    receiver = to.decode("utf-8", errors="replace")
                    self._gsm_sent.append(_SentGsm(receiver, int(length), shown))
                    self._gsm_sent_changed.set()
            await asyncio.sleep(0.02)

    async def _claim_gsm_sent(
        self, receiver: str, fits: Callable[[_SentGsm], bool]
    ) -> _SentGsm | None:
        """The oldest access-log line for a GSM MT to ``receiver`` that ``fits``; None if
        none comes within :data:`ACCESS_LOG_WAIT`."""
        try:
            async with asyncio.timeout(ACCESS_LOG_WAIT):
                while True:
                    for index, sent in enumerate(self._gsm_sent):
                        if sent.receiver == receiver and fits(sent):
                            del self._gsm_sent[index]
                            return sent
                    self._gsm_sent_changed.clear()
                    await self._gsm_sent_changed.wait()
        except TimeoutError:
            return None

    async def _assemble_mts(self) -> None:
        """Turn fakesmsc's MT lines into messages (see "Line breaks in GSM text")."""
        ahead: bytes | None = None
        while True:
            line = ahead if ahead is not None else await self._mt_lines.get()
            ahead = None
            fields = line.split(b" ", 3)
            if len(fields) < 4 or fields[2] != b"text":
                message = self._on_mt(line)
                if message is not None and message.parts > 1 and message.coding == "gsm":
                    await self._claim_for_concatenated(message)
                if message is not None:
                    self._deliver(message)
                continue
            sender, receiver = (f.decode("utf-8", errors="replace") for f in fields[:2])
            body = fields[3]
            sent = await self._claim_gsm_sent(receiver, functools.partial(_starts_like, body))
            if sent is None:
                self.unparsed.append(
                    f"no 'Sent SMS' line in bearerbox-access.log for a GSM MT to {receiver} "
                    f"starting {body!r}; its first line is taken as the whole text"
                )
            while sent is not None and len(body) < sent.length:
                try:
                    following = await asyncio.wait_for(self._mt_lines.get(), CONTINUATION_WAIT)
                except TimeoutError:
                    following = None
                if following is None or len(body) + 1 + len(following) > sent.length:
                    self.unparsed.append(
                        f"GSM MT to {receiver} is {sent.length - len(body)} bytes short of the "
                        f"{sent.length} bearerbox sent (a CR before a line break?): {body!r}"
                    )
                    ahead = following
                    break
                body += b"\n" + following
            if sent is not None and len(body) == sent.length and _shown(body) != sent.shown:
                self.unparsed.append(
                    f"GSM MT to {receiver} does not match bearerbox's access log: "
                    f"{body!r} vs {sent.shown!r}"
                )
            self._deliver(MtMessage(sender, receiver, body.decode("utf-8", "replace"), "gsm", 1))

    async def _claim_for_concatenated(self, message: MtMessage) -> None:
        """Consume the access-log line of a concatenated GSM message, so it is not
        taken for a later single-part one."""
        data = message.text.encode("utf-8")
        sent = await self._claim_gsm_sent(
            message.receiver, lambda s: s.length == len(data) and s.shown == _shown(data)
        )
        if sent is None:
            self.unparsed.append(
                f"no 'Sent SMS' line in bearerbox-access.log for the {message.parts}-part "
                f"GSM MT to {message.receiver}: {message.text!r}"
            )

    def _on_mt(self, line: bytes) -> MtMessage | None:
        """The message of a one-line MT (or the last part of one); None otherwise."""
        fields = line.split(b" ", 3)
        if len(fields) < 4:
            self.unparsed.append(line.decode("utf-8", errors="replace"))
            return None
        sender, receiver = (f.decode("utf-8", errors="replace") for f in fields[:2])
        kind, rest = fields[2], fields[3]
        if kind in (b"ucs-2", b"ucs2"):
            text = unquote_to_bytes(rest.replace(b"+", b" ")).decode("utf-16-be", "replace")
            return MtMessage(sender, receiver, text, "ucs2", 1)
        if kind == b"data":
            text = unquote_to_bytes(rest.replace(b"+", b" ")).decode("latin-1")
            return MtMessage(sender, receiver, text, "8bit", 1)
        if kind == b"udh":
            udh_field, _, payload = rest.partition(b" ")
            if payload.startswith(b"data "):
                payload = payload[len(b"data ") :]
            udh = unquote_to_bytes(udh_field.replace(b"+", b" "))
            data = unquote_to_bytes(payload.replace(b"+", b" "))
            return self._on_part(sender, receiver, udh, data)
        self.unparsed.append(line.decode("utf-8", errors="replace"))
        return None

    def _on_part(self, sender: str, receiver: str, udh: bytes, data: bytes) -> MtMessage | None:
        info = _concat_info(udh)
        if info is None:
            text, coding = _guess_decode(data)
            return MtMessage(sender, receiver, text, coding, 1)
        ref, total, seq = info
        key = (sender, receiver, ref, total)
        parts = self._parts.setdefault(key, {})
        parts[seq] = data
        if len(parts) < total:
            return None
        del self._parts[key]
        joined = b"".join(parts[i] for i in sorted(parts))
        text, coding = _guess_decode(joined)
        return MtMessage(sender, receiver, text, coding, total)

    def _deliver(self, message: MtMessage) -> None:
        self._queues[message.receiver].put_nowait(message)

    # ------------------------------------------------------------------ public

    async def send_from_phone(self, sender: str, text: str, *, ucs2: bool = False) -> None:
        """Have ``sender`` send ``text`` to the short code (MO) through fakesmsc.

        GSM text may not contain line breaks (fakesmsc's protocol is line based).
        The line to fakesmsc is limited to 255 bytes: about 220 GSM characters, or
        roughly 40 (Urdu) to 80 (Latin) UCS-2 characters.
        """
        if not sender or any(ch.isspace() for ch in sender):
            raise ValueError(f"unusable sender {sender!r}")
        if ucs2:
            data = quote_from_bytes(text.encode("utf-16-be"), safe="")
            line = f"{sender} {self.shortcode} ucs2 {data}\n".encode("ascii")
        else:
            if "\n" in text or "\r" in text:
                raise ValueError("fakesmsc cannot send a GSM text with a line break")
            line = f"{sender} {self.shortcode} text {text}\n".encode()
        if len(line) > FAKESMSC_MAX_LINE:
            raise ValueError(
                f"fakesmsc line is {len(line)} bytes; fakesmsc reads at most "
                f"{FAKESMSC_MAX_LINE} (its stdin buffer is 256 bytes)"
            )
        proc = self._fakesmsc
        if proc is None or proc.stdin is None or proc.returncode is not None:
            raise KannelHarnessError(f"fakesmsc is not running\n{self.log_tails()}")
        async with self._send_lock:
            expected = self._sent + 1
            proc.stdin.write(line)
            await proc.stdin.drain()
            try:
                async with asyncio.timeout(10):
                    while self._sent < expected:
                        self._sent_changed.clear()
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self._sent_changed.wait(), 0.2)
                        if self._sent < expected:
                            # The line may sit in fakesmsc's stdio buffer behind an
                            # empty line read with it; another line makes select() fire.
                            await self._poke_locked()
            except TimeoutError:
                raise KannelHarnessError(
                    f"fakesmsc did not send MO {expected} within 10 s\n{self.log_tails()}"
                ) from None

    async def _poke_locked(self) -> None:
        proc = self._fakesmsc
        if proc is None or proc.stdin is None or proc.returncode is not None:
            return
        with contextlib.suppress(ConnectionError):
            proc.stdin.write(b"\n")
            await proc.stdin.drain()

    async def _poke(self) -> None:
        """Wake fakesmsc so it reads its bearerbox socket now.

        In interactive mode fakesmsc waits up to 1 s on stdin before it reads what
        bearerbox sent; an empty line (which it ignores) ends that wait at once.
        """
        async with self._send_lock:
            await self._poke_locked()

    async def next_mt(self, phone: str, timeout: float = 10) -> MtMessage:  # noqa: ASYNC109
        """The next complete MT message to ``phone``; TimeoutError when none arrives in time."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        get = asyncio.ensure_future(self._queues[phone].get())
        died = asyncio.ensure_future(self._died.wait())
        try:
            while True:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                done, _ = await asyncio.wait(
                    {get, died}, timeout=min(remaining, 0.05), return_when=asyncio.FIRST_COMPLETED
                )
                if get in done:
                    return get.result()
                if died in done:
                    raise KannelHarnessError(f"a Kannel process died\n{self.log_tails()}")
                await self._poke()
        finally:
            died.cancel()
            if not get.done():
                get.cancel()
        raise TimeoutError(f"no MT to {phone} within {timeout} s\n{self.log_tails()}")

    async def next_reply(self, phone: str, timeout: float = 10) -> str:  # noqa: ASYNC109
        """The decoded text of the next MT message to ``phone`` (parts joined)."""
        return (await self.next_mt(phone, timeout)).text

    async def wait_for_log(self, name: str, needle: str, timeout: float = 10) -> str:  # noqa: ASYNC109
        """The first line of log ``name`` (e.g. ``smsbox-access.log``) containing ``needle``."""
        path = self.workdir / name
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if path.exists():
                for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                    if needle in line:
                        return line
            if loop.time() >= deadline:
                raise TimeoutError(
                    f"{needle!r} not in {name} after {timeout} s\n{self.log_tails()}"
                )
            await asyncio.sleep(0.05)

    def log_tails(self, lines: int = 25) -> str:
        """The last ``lines`` lines of each Kannel log, for error messages."""
        names = (
            "bearerbox.log",
            "bearerbox.stderr",
            "bearerbox-access.log",
            "smsbox.log",
            "smsbox.stderr",
            "smsbox-access.log",
            "fakesmsc.log",
        )
        out = []
        for name in names:
            path = self.workdir / name
            if path.exists():
                out.append(f"----- {name} (last {lines} lines) -----\n{_tail(path, lines)}")
        if self.unparsed:
            out.append("----- unparsed fakesmsc lines / exits -----\n" + "\n".join(self.unparsed))
        return "\n".join(out)
