"""External pools: Ollama servers outside any cluster, which the router reaches over the network.

A pool with ``external:`` is a URL, the models that server holds, and optionally the private CA that
signed its certificate and a bearer token a reverse proxy in front of it checks. The stack creates no
node pool, driver or workload for it: only the router's route to it, the Secret holding its token and
CA (mounted into the router's pods at :data:`UPSTREAM_DIR`) and the router's egress allowance to its port.

The model map carries the URL and the mounted files' paths, never the token itself.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import Field, WithJsonSchema, field_validator, model_validator

from config.base import CamelModel
from config.model_names import InvalidModelNameError, canonical_name

UPSTREAM_DIR = "/etc/ollama-fleet-upstream"
"""Where the router's pods see the external pools' tokens and CA bundles (one Secret, one file per key)."""

_TOKEN_SCHEMA: dict[str, Any] = {
    "description": "Set with `pulumi config set --secret --path 'pools[N].external.token' <token>`.",
    "anyOf": [
        {"type": "object", "properties": {"secure": {"type": "string"}}, "required": ["secure"]},
        {"type": "string"},
    ],
}


class SecretText(CamelModel):
    """One secret string: encrypted in the stack file, decrypted only by Pulumi. ``repr`` never shows it."""

    ciphertext: str | None = None
    value: str | None = Field(default=None, repr=False)

    @model_validator(mode="before")
    @classmethod
    def _from_config(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"value": value.strip()}
        if isinstance(value, dict) and set(value) == {"secure"}:
            return {"ciphertext": value["secure"]}
        return value


Token = Annotated[SecretText, WithJsonSchema(_TOKEN_SCHEMA)]
PEM_CERTIFICATE = "-----BEGIN CERTIFICATE-----"


class ExternalSpec(CamelModel):
    """An Ollama server outside the cluster, e.g. a rig at home behind a TLS reverse proxy."""

    url: Annotated[str, Field(pattern=r"^https?://[^/\s?#@]+/?$")] = Field(
        description="Base URL of the server, no path: https://k80.home.example.org:11434."
    )
    models: Annotated[list[str], Field(min_length=1)] = Field(
        description="The models that server holds; the router routes them to it and checks its /api/tags."
    )
    ca_bundle: str | None = Field(
        default=None, description="PEM text of the private CA that signed the server's certificate."
    )
    token: Token | None = Field(
        default=None, description="Secret bearer token sent upstream (a reverse proxy in front of Ollama checks it)."
    )

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        value = value.rstrip("/")
        parts = urlsplit(value)
        try:
            parts.port  # noqa: B018 - raises on a malformed port
        except ValueError:
            raise ValueError(f"{value!r} has an invalid port") from None
        if not parts.hostname:
            raise ValueError(f"{value!r} names no host")
        return value

    @field_validator("models")
    @classmethod
    def _models(cls, value: list[str]) -> list[str]:
        try:
            return [canonical_name(model) for model in value]
        except InvalidModelNameError as error:
            raise ValueError(str(error)) from None

    @field_validator("ca_bundle")
    @classmethod
    def _pem(cls, value: str | None) -> str | None:
        if value is not None and PEM_CERTIFICATE not in value:
            raise ValueError(f"is not PEM text: it needs at least one '{PEM_CERTIFICATE}' block")
        return value

    @property
    def https(self) -> bool:
        """Whether the router speaks TLS to the server."""
        return self.url.startswith("https://")

    @property
    def host(self) -> str:
        """The URL's host name or address."""
        return urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        """The URL's port (443 for https, 80 for http when the URL names none)."""
        return urlsplit(self.url).port or (443 if self.https else 80)

    @property
    def address(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
        """The host as an IP address, or None for a DNS name."""
        try:
            return ipaddress.ip_address(self.host)
        except ValueError:
            return None


def token_key(pool: str) -> str:
    """The pool's token file in the router's upstream Secret."""
    return f"{pool}.token"


def ca_key(pool: str) -> str:
    """The pool's CA bundle file in the router's upstream Secret."""
    return f"{pool}.ca.pem"


def upstream_path(key: str) -> str:
    """Where the router's pods read a file of the upstream Secret."""
    return f"{UPSTREAM_DIR}/{key}"
