"""The small builders every component relies on: checkov skips, image checks, node exclusion terms."""

from __future__ import annotations

import pytest

from infra.k8s.helpers import checkov_skips, exclusion_terms, image_is_floating, image_skips


def test_checkov_skips_carry_a_reason_and_no_separator() -> None:
    assert checkov_skips({"CKV_K8S_9": "b b b", "CKV_K8S_8": "a a a"}) == {
        "checkov.io/skip1": "CKV_K8S_8=a a a",
        "checkov.io/skip2": "CKV_K8S_9=b b b",
    }
    for reason in ("because", "x = y because of z"):
        with pytest.raises(ValueError, match="CKV_K8S_8"):
            checkov_skips({"CKV_K8S_8": reason})


def test_image_skips_only_for_what_an_image_cannot_pass() -> None:
    assert image_is_floating("dogkeeper886/ollama37:latest") and image_is_floating("busybox")
    assert not image_is_floating("registry.home.arpa:5000/router:0.1.0")
    assert not image_is_floating("r/router@sha256:" + "0" * 64)
    assert image_skips(["r/router@sha256:" + "0" * 64]) == {}
    assert set(image_skips(["ollama/ollama:0.32.15"])) == {"CKV_K8S_43"}
    assert set(image_skips(["dogkeeper886/ollama37:latest"])) == {"CKV_K8S_43", "CKV_K8S_14"}


def test_nothing_to_avoid_adds_no_affinity_term() -> None:
    assert exclusion_terms([]) == [] and exclusion_terms([{}]) == []
    assert exclusion_terms([{"a": "1", "b": "2"}, {"a": "3"}]) == [
        [("a", "NotIn", ["1", "3"])],
        [("a", "NotIn", ["3"]), ("b", "NotIn", ["2"])],
    ]
