"""What the router needs to talk to a server outside the cluster: TLS that verifies it, and its bearer token.

An ``https://`` backend gets an :class:`ssl.SSLContext` that verifies the server's certificate chain
against the system CAs, or only against the backend's own CA bundle when the map names one (a private
CA), checks that the certificate is for the URL's host (SNI carries that name), and offers HTTP/1.1
alone in ALPN: the client's parser speaks nothing else. TLS 1.2 is the floor.

A ``token_file`` holds the bearer token a reverse proxy in front of that Ollama checks; the router sends
it as ``Authorization: Bearer <token>`` on every request to that backend. The client's own
``Authorization`` (the router's key) never goes upstream (:mod:`router.upstream.headers`). Both files are
mounted from a Kubernetes Secret, which the kubelet updates in place when the Secret changes, so
:meth:`Upstream.refresh` (called by the map watcher on every poll) reads a file again when its path,
inode, mtime or size changed: a rotated token or CA takes effect without a restart, for new connections.
A file that cannot be read keeps the previous value and is reported once in the log and in ``last_error``.
"""

from __future__ import annotations

import logging
import os
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

logger = logging.getLogger("router.upstream")

Fingerprint = tuple[str, int, int, int]
T = TypeVar("T")


class CredentialError(ValueError):
    """A CA bundle or token file cannot be used; the message names the file and the reason."""


def tls_context(ca_file: str | None) -> ssl.SSLContext:
    """A client context that verifies the server: the system CAs, or only those of ``ca_file``."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    if ca_file is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        try:
            context.load_verify_locations(cafile=ca_file)
        except (OSError, ssl.SSLError) as error:
            raise CredentialError(f"cannot load the CA bundle {ca_file}: {error}") from None
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    context.set_alpn_protocols(["http/1.1"])
    return context


def read_token(path: str) -> bytes:
    """``Bearer <token>`` from the file's first line (a trailing newline is not part of the token)."""
    try:
        text = Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise CredentialError(f"cannot read the token file {path}: {error}") from None
    if not text or any(char in text for char in "\r\n\0"):
        raise CredentialError(f"the token file {path} must hold one non-empty line")
    return b"Bearer " + text.encode("utf-8")


def _fingerprint(path: str) -> Fingerprint:
    real = os.path.realpath(path)
    stat = os.stat(real)
    return real, stat.st_ino, stat.st_mtime_ns, stat.st_size


@dataclass(slots=True)
class Upstream:
    """How to reach one backend beyond plain HTTP: its TLS context, server name and ``Authorization`` value.

    Attributes:
        server_hostname: the name sent in SNI and checked against the certificate (the URL's host).
        tls: the context for new connections, or None for plain HTTP.
        authorization: the ``Authorization`` value sent upstream, or None.
        last_error: why a file could not be used, until it can again.
    """

    server_hostname: str
    https: bool
    ca_file: str | None = None
    token_file: str | None = None
    tls: ssl.SSLContext | None = None
    authorization: bytes | None = None
    last_error: str | None = None
    _seen: dict[str, Fingerprint | None] = field(default_factory=dict)
    _errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def create(cls, host: str, *, https: bool, ca_file: str | None, token_file: str | None) -> Upstream:
        """The upstream of a backend, with its files read once (a problem is logged and kept in ``last_error``)."""
        upstream = cls(host, https, ca_file, token_file)
        upstream.refresh()
        return upstream

    def refresh(self) -> None:
        """Read the CA bundle and the token again where their files changed."""
        before = self.last_error
        ca_changed = self._changed(self.ca_file)
        if self.https and (self.tls is None or ca_changed):
            self.tls = self._attempt("ca", lambda: tls_context(self.ca_file), self.tls)
        if self.token_file is not None and self._changed(self.token_file):
            self.authorization = self._attempt("token", lambda: read_token(str(self.token_file)), self.authorization)
        self.last_error = "; ".join(self._errors.values()) or None
        if self.last_error is not None and self.last_error != before:
            logger.error(
                "upstream credentials unusable", extra={"host": self.server_hostname, "reason": self.last_error}
            )

    def _attempt(self, what: str, load: Callable[[], T], previous: T | None) -> T | None:
        """``load()``, or the previous value when it fails (the failure is kept until a load succeeds)."""
        try:
            value = load()
        except CredentialError as error:
            self._errors[what] = str(error)
            return previous
        self._errors.pop(what, None)
        return value

    def _changed(self, path: str | None) -> bool:
        if path is None:
            return False
        try:
            fingerprint: Fingerprint | None = _fingerprint(path)
        except OSError:
            fingerprint = None
        changed = path not in self._seen or self._seen[path] != fingerprint
        self._seen[path] = fingerprint
        return changed
