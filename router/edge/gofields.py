"""Which JSON key Go's ``encoding/json`` reads a struct field from, so the router routes on what Ollama runs.

Ollama decodes request bodies into Go structs (https://pkg.go.dev/encoding/json#Unmarshal): a key matches a
field whose name equals it case-insensitively, under Go's folding (ASCII case, plus the two non-ASCII
runes whose fold set holds an ASCII letter: U+212A KELVIN SIGN folds to ``K`` and U+017F LONG S to ``S``;
``foldName`` in https://github.com/golang/go/blob/master/src/encoding/json/fold.go), and when several keys
match, the last one wins. Python's :func:`json.loads` already keeps the last of exactly repeated keys, as Go
does; what it cannot see is that ``"Model"``, or ``"\u212aeep_alive"`` with a Kelvin sign, fills the same
field as ``"model"`` or ``"keep_alive"``.

The router's choice: a body that spells one routing field (``model``, ``name``, ``source``, ``keep_alive``,
``prompt``, ``messages``) in two different ways is refused with 400. Honest clients never send that, and
refusing removes the one way a body could mean one model to the router and another to Ollama. A single
field spelled another way (``"Model"``) is read as Go reads it, and an alias rewrite replaces that very
key, so the forwarded body still means, at Ollama, what the router routed on.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from router.refusal import Refusal

_SPECIAL_FOLDS = str.maketrans({"\u212a": "K", "\u017f": "S"})


def go_fold(key: str) -> str | None:
    """``key`` folded as Go matches it against an ASCII field name; None when it cannot match one."""
    if not key.isascii():
        key = key.translate(_SPECIAL_FOLDS)
        if not key.isascii():
            return None
    return key.upper()


class GoFields:
    """The keys of one decoded JSON object that Go would read the named (ASCII, lower-case) fields from."""

    __slots__ = ("_document", "keys")

    def __init__(self, document: dict[str, Any], names: Iterable[str]) -> None:
        self._document = document
        self.keys: dict[str, str] = {}
        wanted = {name.upper(): name for name in names}
        for key in document:
            name = wanted.get(go_fold(key) or "")
            if name is None:
                continue
            first = self.keys.get(name)
            if first is not None:
                raise Refusal(
                    400,
                    f"ambiguous request body: the field {name!r} is given more than once, as {first!r} and "
                    f"{key!r}; send it once",
                )
            self.keys[name] = key

    def get(self, name: str) -> Any:
        """The value Go would read into field ``name``; None when absent or null."""
        key = self.keys.get(name)
        return None if key is None else self._document[key]

    def key(self, name: str) -> str:
        """The key holding field ``name`` (``name`` itself when absent)."""
        return self.keys.get(name, name)
