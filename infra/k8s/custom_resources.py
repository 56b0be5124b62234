"""GKE's custom resources behind the router's HTTPS Ingress, built typed and checked offline.

kubernetes-validate bundles Kubernetes' own schemas only, so ``make plan`` cannot check these kinds with
them. They are the only kinds exempt from it, listed in :data:`SCHEMAS`, and are checked instead against
JSON Schemas transcribed from GKE's documentation and CRDs, strict like the rest (unknown keys refused):

* ``networking.gke.io/v1`` ManagedCertificate: up to 100 non-wildcard domains of at most 63 characters
  (GoogleCloudPlatform/gke-managed-certs ``deploy/managedcertificates-crd.yaml`` and README "Limitations";
  cloud.google.com/kubernetes-engine/docs/how-to/managed-certs);
* ``cloud.google.com/v1`` BackendConfig and ``networking.gke.io/v1beta1`` FrontendConfig: the fields the
  stack sets (cloud.google.com/kubernetes-engine/docs/how-to/ingress-configuration).

Specs are TypedDicts, so mypy checks what the builders write.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypedDict

import jsonschema  # type: ignore[import-untyped]  # kubernetes-validate's own dependency; it has no type stubs
import pulumi
import pulumi_kubernetes as k8s

MANAGED_CERTIFICATE = ("networking.gke.io/v1", "ManagedCertificate")
BACKEND_CONFIG = ("cloud.google.com/v1", "BackendConfig")
FRONTEND_CONFIG = ("networking.gke.io/v1beta1", "FrontendConfig")


class ManagedCertificateSpec(TypedDict):
    """The host names Google provisions one certificate for."""

    domains: list[str]


class ConnectionDraining(TypedDict):
    """How long the load balancer lets a removed endpoint finish its requests."""

    drainingTimeoutSec: int


class HealthCheck(TypedDict):
    """The load balancer's own health check of each endpoint."""

    type: Literal["HTTP", "HTTPS", "HTTP2"]
    requestPath: str
    port: int
    checkIntervalSec: int
    timeoutSec: int


class BackendConfigSpec(TypedDict):
    """The load balancer's backend service: response timeout, draining, health check."""

    timeoutSec: int
    connectionDraining: ConnectionDraining
    healthCheck: HealthCheck


class FrontendConfigSpec(TypedDict):
    """The load balancer's front end: which SSL policy (TLS versions and ciphers) it offers clients."""

    sslPolicy: str


def custom_resource(
    name: str,
    kind: tuple[str, str],
    metadata: k8s.meta.v1.ObjectMetaArgs,
    spec: ManagedCertificateSpec | BackendConfigSpec | FrontendConfigSpec,
    opts: pulumi.ResourceOptions,
) -> k8s.apiextensions.CustomResource:
    """One of the kinds above (``kind`` is its ``(apiVersion, kind)``)."""
    api_version, kind_name = kind
    return k8s.apiextensions.CustomResource(
        name, api_version=api_version, kind=kind_name, metadata=metadata, spec=spec, opts=opts
    )


_STRING_MAP: dict[str, Any] = {"type": "object", "additionalProperties": {"type": "string"}}
_METADATA: dict[str, Any] = {
    "type": "object",
    "required": ["name", "namespace"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": 63},
        "namespace": {"type": "string"},
        "labels": _STRING_MAP,
        "annotations": _STRING_MAP,
    },
}
_SECONDS: dict[str, Any] = {"type": "integer", "minimum": 1, "maximum": 2147483647}


def _document(api_version: str, kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "additionalProperties": False,
        "properties": {
            "apiVersion": {"const": api_version},
            "kind": {"const": kind},
            "metadata": _METADATA,
            "spec": {"type": "object", "additionalProperties": False, **spec},
        },
    }


SCHEMAS: dict[tuple[str, str], dict[str, Any]] = {
    MANAGED_CERTIFICATE: _document(
        *MANAGED_CERTIFICATE,
        {
            "required": ["domains"],
            "properties": {
                "domains": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 100,
                    "uniqueItems": True,
                    "items": {
                        "type": "string",
                        "maxLength": 63,
                        "pattern": r"^(([a-zA-Z0-9]+|[a-zA-Z0-9][-a-zA-Z0-9]*[a-zA-Z0-9])\.)+"
                        r"[a-zA-Z][-a-zA-Z0-9]*[a-zA-Z0-9]\.?$",
                    },
                }
            },
        },
    ),
    BACKEND_CONFIG: _document(
        *BACKEND_CONFIG,
        {
            "properties": {
                "timeoutSec": _SECONDS,
                "connectionDraining": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"drainingTimeoutSec": {"type": "integer", "minimum": 0, "maximum": 3600}},
                },
                "healthCheck": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "type": {"enum": ["HTTP", "HTTPS", "HTTP2"]},
                        "requestPath": {"type": "string", "pattern": "^/"},
                        "port": {"type": "integer", "minimum": 1, "maximum": 65535},
                        "checkIntervalSec": _SECONDS,
                        "timeoutSec": _SECONDS,
                        "healthyThreshold": _SECONDS,
                        "unhealthyThreshold": _SECONDS,
                    },
                },
            }
        },
    ),
    FRONTEND_CONFIG: _document(
        *FRONTEND_CONFIG,
        {
            "properties": {
                "sslPolicy": {"type": "string", "pattern": r"^[a-z]([-a-z0-9]*[a-z0-9])?$"},
                "redirectToHttps": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"enabled": {"type": "boolean"}, "responseCodeName": {"type": "string"}},
                },
            }
        },
    ),
}
"""The custom kinds ``make plan`` may render, by ``(apiVersion, kind)``; any other unknown kind is an error."""


def problems(document: Mapping[str, Any]) -> list[str] | None:
    """What is wrong with a custom resource (``path: message`` each), or None when its kind is not listed here."""
    schema = SCHEMAS.get((str(document.get("apiVersion")), str(document.get("kind"))))
    if schema is None:
        return None
    validator = jsonschema.Draft202012Validator(schema)
    found = sorted(validator.iter_errors(dict(document)), key=lambda error: list(error.absolute_path))
    return [f"{'.'.join(str(part) for part in error.absolute_path)}: {error.message}" for error in found]
