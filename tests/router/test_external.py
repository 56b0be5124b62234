"""External pools over real sockets: a simulated Ollama behind TLS and a bearer token, as a rig at home.

The rig is the simulator serving HTTPS with a certificate for ``localhost`` signed by a throwaway CA and
refusing requests without its token, which is what a reverse proxy in front of a real Ollama does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import ollama
import pytest

from ollama_sim import RunningSim, SimConfig, running_sim
from tests.router.harness import captured_log, eventually, running_router
from tests.router.tls_certs import Authority, authority

GUARD = 10.0
"""Client timeout: a bound against hangs, not a timing assertion."""

RIG_TOKEN = "rig-token-0123456789"
CLIENT_KEY = "client-key-of-the-router"
CLIENT = {"authorization": f"Bearer {CLIENT_KEY}"}
CHAT = {"model": "llama3.2:3b", "messages": [{"role": "user", "content": "hello"}], "stream": False}
MISSING_WARNING = "external backend lacks models the map routes to it"


@pytest.fixture(scope="module")
def authorities(tmp_path_factory: pytest.TempPathFactory) -> tuple[Authority, Authority]:
    """The rig's private CA, and another CA that signed nothing the rig serves."""
    root = tmp_path_factory.mktemp("tls")
    return authority(root / "rig-ca", "rig private CA"), authority(root / "other-ca", "some other CA")


@pytest.fixture(scope="module")
def rig(authorities: tuple[Authority, Authority]) -> Iterator[RunningSim]:
    """The rig: HTTPS for ``localhost``, its own token, one model."""
    tls = authorities[0].server_context("localhost")
    with running_sim(SimConfig(name="home", models=("llama3.2:3b",), tokens=5, tls=tls, token=RIG_TOKEN)) as sim:
        yield sim


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    """The mounted token file the router reads (one line, as a Kubernetes Secret key is mounted)."""
    path = tmp_path / "home.token"
    path.write_text(RIG_TOKEN + "\n")
    return path


def _document(url: str, ca_file: Path | None, token_file: Path | None, models: list[str]) -> dict[str, Any]:
    backend = {"name": "home", "url": url, "external": True, "ca_file": ca_file and str(ca_file)}
    backend["token_file"] = token_file and str(token_file)
    return {"backends": [backend], "routes": [{"model": model, "backends": ["home"]} for model in models]}


def _local(rig: RunningSim) -> str:
    return f"https://localhost:{rig.port}"


def test_requests_reach_the_rig_over_tls_with_its_token_and_never_the_clients_key(
    rig: RunningSim, authorities: tuple[Authority, Authority], token_file: Path
) -> None:
    rig.observed.clear()
    document = _document(_local(rig), authorities[0].certificate, token_file, ["llama3.2:3b"])
    with running_router(document, api_keys=(CLIENT_KEY,)) as router:
        answer = httpx.post(router.url + "/api/chat", json=CHAT, headers=CLIENT, timeout=GUARD)
        with ollama.Client(host=router.url, headers=CLIENT, timeout=GUARD) as client:
            chunks = client.chat(model="llama3.2:3b", messages=CHAT["messages"], stream=True)
            streamed = [part.message.content for part in chunks]
    assert answer.status_code == 200, answer.text
    assert answer.headers["x-fleet-backend"] == "home"
    assert answer.json()["message"]["content"]
    assert len(streamed) > 1
    sent = [request.headers for request in rig.observed.requests]
    assert len(sent) == 2
    assert all(headers["authorization"] == f"Bearer {RIG_TOKEN}" for headers in sent)
    assert not any(CLIENT_KEY in value for headers in sent for value in headers.values())


def test_a_rotated_token_is_sent_once_the_file_changes(
    rig: RunningSim, authorities: tuple[Authority, Authority], token_file: Path, tmp_path: Path
) -> None:
    """The rig refuses the new token (it still expects the old one): the 401 is relayed, not retried."""
    rig.observed.clear()
    document = _document(_local(rig), authorities[0].certificate, token_file, ["llama3.2:3b"])
    mounted = tmp_path / "model-map.json"
    mounted.write_text(json.dumps(document))
    with running_router(document, model_map=mounted, reload_interval=0.05) as router:
        assert httpx.post(router.url + "/api/chat", json=CHAT, timeout=GUARD).status_code == 200
        token_file.write_text("rotated-token\n")
        assert eventually(lambda: router.state.backends.by_name["home"].authorization == b"Bearer rotated-token")
        refused = httpx.post(router.url + "/api/chat", json=CHAT, timeout=GUARD)
    assert refused.status_code == 401
    assert refused.json() == {"error": "unauthorized"}
    assert rig.observed.requests[-1].headers["authorization"] == "Bearer rotated-token"


@pytest.mark.parametrize(
    "case",
    [
        ("other", "localhost", "unable to get local issuer certificate"),
        ("system", "localhost", "unable to get local issuer certificate"),
        ("rig", "127.0.0.1", "IP address mismatch"),
    ],
)
def test_a_server_the_router_cannot_verify_gets_no_request(
    rig: RunningSim, authorities: tuple[Authority, Authority], token_file: Path, case: tuple[str, str, str]
) -> None:
    """Another CA, the system CAs (which never signed the rig's certificate), a name the certificate lacks."""
    trust, host, reason = case
    rig.observed.clear()
    ca_file = {"rig": authorities[0].certificate, "other": authorities[1].certificate, "system": None}[trust]
    document = _document(f"https://{host}:{rig.port}", ca_file, token_file, ["llama3.2:3b"])
    with running_router(document) as router:
        answer = httpx.post(router.url + "/api/chat", json=CHAT, timeout=GUARD)
    assert answer.status_code == 502
    message = answer.json()["error"]
    assert message.startswith(f"backend home is unreachable: TLS with {host}:{rig.port} failed: certificate verify")
    assert reason in message
    assert rig.observed.requests == []


def test_the_status_shows_whether_the_rig_answers_and_which_routed_models_it_lacks(
    rig: RunningSim, authorities: tuple[Authority, Authority], token_file: Path
) -> None:
    document = _document(_local(rig), authorities[0].certificate, token_file, ["llama3.2:3b", "qwen2.5:7b"])
    with captured_log("router") as log, running_router(document, probe_interval=0.05) as router:
        backend = router.state.backends.by_name["home"]
        assert eventually(lambda: backend.inventory is not None)
        first = backend.inventory
        assert eventually(lambda: backend.inventory is not first)
        status = httpx.get(router.url + "/fleet/status", timeout=GUARD).json()
    (home,) = status["backends"]
    assert home["external"] is True and home["answers"] is True and home["tls"] is True
    assert home["credentials_error"] is None
    models = home["models"]
    assert models["promised"] == ["llama3.2:3b", "qwen2.5:7b"]
    assert models["missing"] == ["qwen2.5:7b"]
    assert models["error"] is None
    warnings = [record for record in log.records if record["message"] == MISSING_WARNING]
    assert len(warnings) == 1
    assert warnings[0]["backend"] == "home" and warnings[0]["missing"] == ["qwen2.5:7b"]


def test_the_status_says_when_the_token_file_cannot_be_read(
    rig: RunningSim, authorities: tuple[Authority, Authority], tmp_path: Path
) -> None:
    document = _document(_local(rig), authorities[0].certificate, tmp_path / "absent.token", ["llama3.2:3b"])
    with running_router(document) as router:
        status = httpx.get(router.url + "/fleet/status", timeout=GUARD).json()
        answer = httpx.post(router.url + "/api/chat", json=CHAT, timeout=GUARD)
    (home,) = status["backends"]
    assert "cannot read the token file" in home["credentials_error"]
    assert answer.status_code == 401


def test_a_rig_the_router_cannot_verify_is_routed_around(
    rig: RunningSim, authorities: tuple[Authority, Authority], token_file: Path
) -> None:
    """The route's next backend answers; the rig's circuit counts the failure like any backend's."""
    rig.observed.clear()
    document = _document(_local(rig), authorities[1].certificate, token_file, ["llama3.2:3b"])
    with running_sim(SimConfig(name="t4", models=("llama3.2:3b",), tokens=5)) as t4:
        document["backends"].append({"name": "t4", "url": t4.url})
        document["routes"][0]["backends"] = ["home", "t4"]
        with running_router(document) as router:
            answer = httpx.post(router.url + "/api/chat", json=CHAT, timeout=GUARD)
            home = router.state.backends.by_name["home"]
        assert answer.status_code == 200
        assert answer.headers["x-fleet-backend"] == "t4"
        assert "certificate verify failed" in str(home.replicas[0].last_error)
        assert "authorization" not in t4.observed.requests[-1].headers, "the rig's token is for the rig only"
    assert rig.observed.requests == []


def test_the_routers_own_probes_and_polls_carry_the_rigs_token(
    rig: RunningSim, authorities: tuple[Authority, Authority], token_file: Path
) -> None:
    """Health probes, residency polls and model checks are requests too: a rig behind a token-checking proxy
    must get its token on each, or it looks down and holds nothing."""
    rig.observed.clear()
    document = _document(_local(rig), authorities[0].certificate, token_file, ["llama3.2:3b"])
    with running_router(document, probe_interval=0.05, ps_interval=0.05) as router:
        wanted = {"/api/version", "/api/ps", "/api/tags"}
        assert eventually(lambda: wanted <= set(rig.observed.paths()))
        backend = router.state.backends.by_name["home"]
        assert eventually(lambda: backend.status()["answers"] is True)
    sent = [request for request in rig.observed.requests if request.path in wanted]
    assert all(request.headers["authorization"] == f"Bearer {RIG_TOKEN}" for request in sent)
