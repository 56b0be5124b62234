"""Keeping the router off the pools' nodes on an existing cluster: node-affinity terms that match none of them.

Pure data, so :mod:`config.rules` can refuse a stack whose pools' selectors need too many terms before the
program runs, and :mod:`infra.k8s.helpers` writes exactly the terms that were checked.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping

MAX_EXCLUSION_TERMS = 64
"""More node-affinity terms than this means the pools' selectors are too tangled to negate sensibly."""
MAX_COMBINATIONS = 100_000
"""Label combinations looked at before giving up: beyond this the terms cannot be few anyway in practice."""

Term = list[tuple[str, str, list[str]]]


class TooManyTermsError(ValueError):
    """The selectors need more than :data:`MAX_EXCLUSION_TERMS` terms."""


def exclusion_terms(selectors: Iterable[Mapping[str, str]]) -> list[Term]:
    """Node-affinity terms matching exactly the nodes that match none of ``selectors``.

    A node escapes selector S when it differs from S on at least one of S's labels (``NotIn`` also
    matches a missing label), so "none of them" is the product of one escape per selector; escapes on
    the same key merge into one ``NotIn``. Nothing to avoid means no terms at all: an empty term would
    match no node. Raises :class:`TooManyTermsError` past :data:`MAX_EXCLUSION_TERMS`.
    """
    choices = [sorted(selector.items()) for selector in selectors if selector]
    if not choices:
        return []
    terms: list[Term] = []
    for seen, combination in enumerate(itertools.product(*choices)):
        if seen >= MAX_COMBINATIONS:
            raise TooManyTermsError(f"more than {MAX_COMBINATIONS} label combinations")
        merged: dict[str, set[str]] = {}
        for key, value in combination:
            merged.setdefault(key, set()).add(value)
        term = [(key, "NotIn", sorted(values)) for key, values in sorted(merged.items())]
        if term not in terms:
            terms.append(term)
            if len(terms) > MAX_EXCLUSION_TERMS:
                raise TooManyTermsError(f"more than {MAX_EXCLUSION_TERMS} node-affinity terms")
    return terms
