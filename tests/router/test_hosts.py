"""DNS rebinding: the router answers only the Host names it is configured for (loopback names by default on
loopback), refuses the rest with 403 before anything reaches a backend, and keeps its probes open."""

from __future__ import annotations

import json

import pytest

from router.edge.hosts import HostPolicy, host_name, is_loopback
from tests.router.conftest import Fleet, fleet_router
from tests.router.rawhttp import raw

GENERATE = json.dumps({"model": "mistral:7b", "prompt": "hi", "stream": False}).encode()


@pytest.mark.parametrize("host", ["evil.example", "evil.example:11434", "127.0.0.1.evil.example", "10.0.0.7"])
@pytest.mark.parametrize("path", ["/api/generate", "/v1/chat/completions", "/api/tags", "/"])
def test_a_rebound_host_is_refused_on_a_loopback_router(fleet: Fleet, host: str, path: str) -> None:
    origin = f"http://{host}"
    fetched = raw(
        fleet.url,
        "GET" if path in {"/api/tags", "/"} else "POST",
        path,
        [("host", host), ("origin", origin)],
        GENERATE,
    )
    assert fetched.status == 403
    if path.startswith("/v1/"):
        assert json.loads(fetched.body)["error"]["message"].startswith("this router does not answer")
    elif path != "/":
        assert "Host header" in json.loads(fetched.body)["error"]
    assert fleet.t4.observed.requests == [] and fleet.l4.observed.requests == []


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST:8080", "127.0.0.1:11434", "[::1]:11434", "localhost."])
def test_loopback_names_on_any_port_are_answered_by_default(fleet: Fleet, host: str) -> None:
    fetched = raw(fleet.url, "POST", "/api/generate", [("host", host)], GENERATE)
    assert fetched.status == 200 and fetched.headers["x-fleet-backend"] == "l4"


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_answer_whatever_host_they_send(fleet: Fleet, path: str) -> None:
    assert raw(fleet.url, "GET", path, [("host", "10.12.0.34:11434")]).status == 200


def test_configured_names_replace_the_default(fleet: Fleet) -> None:
    allowed = ("fleet-router.ollama-fleet.svc", "*.example.org")
    with fleet_router(fleet, allowed_hosts=allowed) as router:
        answers = {
            host: raw(router.url, "POST", "/api/generate", [("host", host)], GENERATE).status
            for host in ("fleet-router.ollama-fleet.svc:11434", "ollama.example.org", "example.org", "localhost")
        }
    assert answers == {
        "fleet-router.ollama-fleet.svc:11434": 200,
        "ollama.example.org": 200,
        "example.org": 403,
        "localhost": 403,
    }
    assert len(fleet.l4.observed.requests) == 2


def test_a_request_without_host_is_refused_when_hosts_are_restricted(fleet: Fleet) -> None:
    assert raw(fleet.url, "POST", "/api/generate", [], GENERATE).status == 403
    assert fleet.l4.observed.requests == []


def test_defaults_follow_the_listen_address() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost") and is_loopback("127.0.0.5")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.0.0.1")
    assert HostPolicy((), "0.0.0.0").allows("/api/chat", b"anything.example")
    assert not HostPolicy((), "127.0.0.1").allows("/api/chat", b"anything.example")
    assert HostPolicy(("*",), "127.0.0.1").allows("/api/chat", b"anything.example")
    assert host_name(b"[::1]:80") == "::1" and host_name(b"Example.ORG.:443") == "example.org"
