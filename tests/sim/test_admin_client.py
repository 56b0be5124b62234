"""Model management through the ``ollama`` client: pull, push, create, copy, delete, blobs."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import ollama
import pytest


def test_pull_streams_progress_ending_in_success_and_installs_the_model(client: ollama.Client) -> None:
    progress = list(client.pull("phi3:mini", stream=True))
    assert progress[0].status == "pulling manifest" and progress[-1].status == "success"
    layers = [step for step in progress if step.digest]
    assert layers and all(step.digest.startswith("sha256:") and step.total for step in layers)  # type: ignore[union-attr]
    assert any(step.completed == step.total for step in layers)
    assert client.list().models[0].model == "phi3:mini"


def test_pull_without_stream_returns_only_the_last_object(client: ollama.Client, http: httpx.Client) -> None:
    assert client.pull("gemma3:1b").status == "success"
    raw = http.post("/api/pull", json={"model": "gemma3:4b", "stream": False})
    assert raw.json() == {"status": "success"} and raw.headers["content-type"] == "application/json"
    refused = http.post("/api/pull", json={"model": "bad name!"})
    assert (refused.status_code, refused.json()) == (400, {"error": "invalid model name"})


def test_push_streams_progress_and_fails_in_stream_for_a_missing_model(client: ollama.Client) -> None:
    assert list(client.push("llama3.2:3b", stream=True))[-1].status == "success"
    with pytest.raises(ollama.ResponseError):
        list(client.push("never-pulled", stream=True))


def test_create_from_an_installed_model(client: ollama.Client) -> None:
    assert client.create(model="my-llama", from_="llama3.2:3b").status == "success"
    assert client.show("my-llama").details.family == "llama"  # type: ignore[union-attr]
    assert "my-llama:latest" in [entry.model for entry in client.list().models]


def test_copy_then_delete(client: ollama.Client) -> None:
    assert client.copy("qwen2.5:7b", "backup/qwen:7b").status == "success"
    names = [entry.model for entry in client.list().models]
    assert names[0] == "backup/qwen:7b"
    original = next(entry for entry in client.list().models if entry.model == "qwen2.5:7b")
    assert client.list().models[0].digest == original.digest
    assert client.delete("backup/qwen:7b").status == "success"
    assert "backup/qwen:7b" not in [entry.model for entry in client.list().models]
    with pytest.raises(ollama.ResponseError) as missing:
        client.delete("backup/qwen:7b")
    assert (missing.value.status_code, missing.value.error) == (404, "model 'backup/qwen:7b' not found")
    with pytest.raises(ollama.ResponseError) as no_source:
        client.copy("ghost", "other")
    assert (no_source.value.status_code, no_source.value.error) == (404, 'model "ghost" not found')


def test_copy_and_delete_answer_200_with_an_empty_body(http: httpx.Client) -> None:
    copied = http.post("/api/copy", json={"source": "llama3.2:3b", "destination": "copy:1"})
    assert (copied.status_code, copied.content, copied.headers["content-length"]) == (200, b"", "0")
    deleted = http.request("DELETE", "/api/delete", json={"model": "copy:1"})
    assert (deleted.status_code, deleted.content) == (200, b"")


def test_blobs_upload_check_and_refuse_mismatches(client: ollama.Client, http: httpx.Client, tmp_path: Path) -> None:
    weights = tmp_path / "adapter.bin"
    weights.write_bytes(b"weights" * 1000)
    digest = client.create_blob(weights)
    assert digest == "sha256:" + hashlib.sha256(weights.read_bytes()).hexdigest()
    assert http.head(f"/api/blobs/{digest}").status_code == 200
    assert http.post(f"/api/blobs/{digest}", content=b"again").status_code == 200
    fresh = "sha256:" + hashlib.sha256(b"new").hexdigest()
    assert http.head(f"/api/blobs/{fresh}").status_code == 404
    created = http.post(f"/api/blobs/{fresh}", content=b"new")
    assert (created.status_code, created.content) == (201, b"")
    wrong = "sha256:" + "0" * 64
    mismatch = http.post(f"/api/blobs/{wrong}", content=b"other")
    assert mismatch.status_code == 400
    assert mismatch.json()["error"].startswith(f'digest mismatch, expected "{wrong}", got "sha256:')
    invalid = http.head("/api/blobs/sha256:short")
    assert invalid.status_code == 400
