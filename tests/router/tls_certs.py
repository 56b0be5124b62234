"""Throwaway certificate authorities and server certificates for TLS tests, made with the ``openssl`` CLI.

Nothing here is kept: every key and certificate lives in the test's temporary directory.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

OPENSSL_TIMEOUT = 30.0


def _openssl(*args: str, cwd: Path) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:  # pragma: no cover - the CI image has it; say so plainly where it does not
        pytest.fail("these tests make their certificates with the openssl CLI: install openssl")
    subprocess.run([openssl, *args], cwd=cwd, check=True, capture_output=True, timeout=OPENSSL_TIMEOUT)


@dataclass(frozen=True)
class Authority:
    """A CA: its certificate (``ca.pem``, what a client trusts) and its key, in ``directory``."""

    directory: Path

    @property
    def certificate(self) -> Path:
        """The CA certificate, PEM."""
        return self.directory / "ca.pem"

    def issue(self, name: str, host: str) -> tuple[Path, Path]:
        """A server certificate for ``host`` (DNS name in subjectAltName) and its key."""
        key, request, cert = (self.directory / f"{name}.{ext}" for ext in ("key", "csr", "pem"))
        extensions = self.directory / f"{name}.ext"
        extensions.write_text(f"subjectAltName=DNS:{host}\nextendedKeyUsage=serverAuth\n")
        _openssl(
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", str(key), "-out", str(request), "-subj", f"/CN={host}", cwd=self.directory,
        )  # fmt: skip
        _openssl(
            "x509", "-req", "-in", str(request), "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-days", "2", "-out", str(cert), "-extfile", str(extensions), cwd=self.directory,
        )  # fmt: skip
        return cert, key

    def server_context(self, host: str) -> ssl.SSLContext:
        """A server-side TLS context presenting a certificate for ``host`` signed by this CA."""
        cert, key = self.issue(f"server-{host}", host)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        return context


def authority(directory: Path, name: str) -> Authority:
    """A new self-signed CA called ``name`` in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    _openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", f"/CN={name}",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign",
        cwd=directory,
    )  # fmt: skip
    return Authority(directory)
