"""How a built message leaves: SMTP for real, or .eml files in a folder for local use.

Both raise a TransportError subclass when the message was not handed over:
TemporaryFailure (try again later) or PermanentFailure (the server refused it for good).
"""

from __future__ import annotations

import os
import re
import smtplib
import ssl
import tempfile
from collections.abc import Mapping
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol


class TransportError(Exception):
    """The message was not handed over. ``permanent`` says whether a retry could help."""

    permanent = False


class TemporaryFailure(TransportError):
    """The server or the disk could not take the message now; a later attempt may work."""


class ServerUnavailable(TemporaryFailure):
    """No conversation with the server at all (refused, unreachable, timed out, TLS or login)."""


class PermanentFailure(TransportError):
    """The server refused this message for good (a 5xx reply to the sender, recipient or data)."""

    permanent = True


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Hand ``message`` over, or raise TransportError."""


class SMTPTransport:
    """Send through an SMTP server (a relay or a provider's submission port)."""

    def __init__(
        self,
        host: str,
        port: int = 587,
        *,
        username: str = "",
        password: str = "",
        starttls: bool = True,
        timeout: float = 30,
    ) -> None:
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.starttls = starttls
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"SMTPTransport({self.host}:{self.port}, starttls={self.starttls})"

    def send(self, message: EmailMessage) -> None:
        """Send ``message`` in one SMTP conversation.

        Raises ServerUnavailable if no conversation could be had (connection, TLS or
        login), TemporaryFailure for a 4xx reply or a dropped connection, and
        PermanentFailure for a 5xx reply to the message itself.
        """
        try:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        except (OSError, smtplib.SMTPException) as exc:
            raise ServerUnavailable(f"Cannot connect to {self.host}:{self.port}: {_describe(exc)}") from exc
        try:
            self._open(smtp)
            try:
                smtp.send_message(message)
            except smtplib.SMTPSenderRefused as exc:
                # MAIL_FROM is refused: a settings problem that no single email can fix.
                raise ServerUnavailable(
                    f"Sender {exc.sender} refused: {exc.smtp_code} {_text(exc.smtp_error)}"
                ) from exc
            except smtplib.SMTPNotSupportedError as exc:
                # The address needs SMTPUTF8 and the server lacks it: retrying cannot help.
                raise PermanentFailure(f"Server cannot take this message: {exc}") from exc
            except smtplib.SMTPRecipientsRefused as exc:
                code, reply = next(iter(exc.recipients.values()))
                raise _classify(code, reply, "recipient refused") from exc
            except smtplib.SMTPResponseException as exc:
                raise _classify(exc.smtp_code, exc.smtp_error, "message refused") from exc
            except (OSError, smtplib.SMTPException) as exc:
                raise TemporaryFailure(f"Connection lost while sending: {_describe(exc)}") from exc
        finally:
            # The server has the message (or refused it) by now: a failed QUIT changes nothing.
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()

    def _open(self, smtp: smtplib.SMTP) -> None:
        try:
            smtp.ehlo()
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if self.username:
                smtp.login(self.username, self.password)
        except (OSError, smtplib.SMTPException) as exc:
            # A wrong password or a missing STARTTLS is a settings problem, never the
            # message's: retry (with backoff) rather than fail every email for good.
            raise ServerUnavailable(f"SMTP set-up with {self.host}:{self.port} failed: {_describe(exc)}") from exc


class FileTransport:
    """Write each message as an RFC 5322 ``.eml`` file (CRLF line ends) into ``directory``.

    The file is named after the Message-ID, so a message written twice overwrites itself,
    and it appears whole (written to a temporary file, then renamed).
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def __repr__(self) -> str:
        return f"FileTransport({self.directory})"

    def path_for(self, message: EmailMessage) -> Path:
        token = re.sub(r"[^A-Za-z0-9._-]+", "_", str(message["Message-ID"] or "").strip("<>")) or "message"
        return self.directory / f"{token}.eml"

    def send(self, message: EmailMessage) -> None:
        """Write ``message``. Raises TemporaryFailure if the file cannot be written."""
        target = self.path_for(message)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            data = message.as_bytes(policy=policy.SMTP)
            fd, temp = tempfile.mkstemp(dir=self.directory, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                Path(temp).replace(target)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise TemporaryFailure(f"Cannot write {target}: {exc}") from exc


def transport_from_config(config: Mapping[str, Any]) -> Transport:
    """The transport the settings ask for (MAIL_TRANSPORT "file" or "smtp").

    Raises ValueError for any other MAIL_TRANSPORT.
    """
    kind = str(config["MAIL_TRANSPORT"]).strip().lower()
    if kind == "file":
        return FileTransport(Path(config["MAIL_DIR"]))
    if kind == "smtp":
        return SMTPTransport(
            config["SMTP_HOST"],
            int(config["SMTP_PORT"]),
            username=config["SMTP_USERNAME"],
            password=config["SMTP_PASSWORD"],
            starttls=bool(config["SMTP_STARTTLS"]),
            timeout=float(config["SMTP_TIMEOUT"]),
        )
    raise ValueError(f"MAIL_TRANSPORT must be 'file' or 'smtp', not {config['MAIL_TRANSPORT']!r}")


def _classify(code: int, reply: bytes | str, what: str) -> TransportError:
    message = f"{what}: {code} {_text(reply)}".strip()
    return PermanentFailure(message) if 500 <= code < 600 else TemporaryFailure(message)


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
