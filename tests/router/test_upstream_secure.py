"""The upstream credentials of a server outside the cluster: a token or CA file that comes, goes and changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from router.upstream.secure import CredentialError, Upstream, read_token, tls_context


def test_a_token_file_that_appears_later_is_picked_up_and_the_error_cleared(tmp_path: Path) -> None:
    token = tmp_path / "rig.token"
    upstream = Upstream.create("rig.example.org", https=False, ca_file=None, token_file=str(token))
    assert upstream.authorization is None
    assert upstream.last_error is not None and "cannot read the token file" in upstream.last_error
    token.write_text("abc\n")
    upstream.refresh()
    assert upstream.authorization == b"Bearer abc"
    assert upstream.last_error is None


def test_a_token_file_that_breaks_keeps_the_previous_token(tmp_path: Path) -> None:
    token = tmp_path / "rig.token"
    token.write_text("abc")
    upstream = Upstream.create("rig.example.org", https=False, ca_file=None, token_file=str(token))
    token.write_text("")
    upstream.refresh()
    assert upstream.authorization == b"Bearer abc"
    assert upstream.last_error == f"the token file {token} must hold one non-empty line"


def test_a_ca_bundle_that_is_not_pem_leaves_no_tls_to_connect_with(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not a certificate")
    upstream = Upstream.create("rig.example.org", https=True, ca_file=str(bundle), token_file=None)
    assert upstream.tls is None
    assert upstream.last_error is not None and f"cannot load the CA bundle {bundle}" in upstream.last_error


def test_a_token_spanning_lines_is_refused(tmp_path: Path) -> None:
    token = tmp_path / "rig.token"
    token.write_text("abc\ndef\n")
    with pytest.raises(CredentialError, match="one non-empty line"):
        read_token(str(token))


def test_the_client_context_verifies_the_server_and_its_name() -> None:
    context = tls_context(None)
    assert context.check_hostname and context.verify_mode.name == "CERT_REQUIRED"
    assert context.minimum_version.name == "TLSv1_2"
