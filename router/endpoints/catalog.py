"""Every endpoint that routes by a model named in its JSON body, with Ollama's own wording for refusals.

Ollama does not refuse a bad ``model`` the same way on every endpoint (its ``server/routes.go``,
https://github.com/ollama/ollama/blob/main/server/routes.go): ``/api/generate`` and ``/api/embed`` answer an
empty model with ``404 model '' not found`` while ``/api/chat`` says ``400 model is required``;
``/api/embeddings`` words an unknown model as ``model "X" not found, try pulling it first``; copy and delete
quote with double quotes. A client must not be able to tell the router from one Ollama server, so each
endpoint carries its own three answers: model missing, model name invalid, model not served.

Admin endpoints that name a model nobody routes (pull, push, create) are refused with a 400 that says
how to choose a backend instead: pulling a model onto an arbitrary GPU pool is the operator's decision.
"""

from __future__ import annotations

from dataclasses import dataclass

from router.edge.access import Access

NOT_ROUTED_HINT = (
    "model '{model}' is not in the model map; name the backend to use with the X-Fleet-Backend header "
    "(one of: {backends})"
)
"""The refusal for an admin request about a model no route serves."""


@dataclass(frozen=True, slots=True)
class Refusal:
    """A status and a message template (``{model}`` is the name as the client sent it)."""

    status: int
    message: str

    def render(self, model: str, backends: str = "") -> str:
        """The message for one request."""
        return self.message.format(model=model, backends=backends)


@dataclass(frozen=True, slots=True)
class RoutedEndpoint:
    """An endpoint whose JSON body names the model that decides the backend.

    Attributes:
        name: the metrics label.
        path: the request path.
        methods: the methods it accepts (others get 405).
        access: who may call it.
        openai: whether errors take OpenAI's shape (Anthropic's on ``/v1/messages``, see ``router.edge.responses``).
        go_type: Ollama's request type, named in JSON decoding errors as Go names it.
        fields: body fields holding the model, first non-empty wins (``model``, legacy ``name``).
        missing, invalid, unknown: the answers for an absent, malformed or unserved model.
        unload_field: for generate/chat, the field whose emptiness with ``keep_alive: 0`` means "unload".
        everywhere: the request goes to every backend of the route (delete).
    """

    name: str
    path: str
    go_type: str
    missing: Refusal
    invalid: Refusal
    unknown: Refusal
    methods: frozenset[str] = frozenset({"POST"})
    access: Access = Access.USER
    openai: bool = False
    fields: tuple[str, ...] = ("model",)
    unload_field: str | None = None
    everywhere: bool = False

    @property
    def routing_fields(self) -> tuple[str, ...]:
        """Every body field the router decides on: the model's, and ``keep_alive`` with the unload field."""
        if self.unload_field is None:
            return self.fields
        return (*self.fields, "keep_alive", self.unload_field)


_NOT_FOUND = Refusal(404, "model '{model}' not found")
_REQUIRED = Refusal(400, "model is required")
_INVALID = Refusal(400, "invalid model name")
_EMPTY_NOT_FOUND = Refusal(404, "model '' not found")
_NOT_ROUTED = Refusal(400, NOT_ROUTED_HINT)

ROUTED: tuple[RoutedEndpoint, ...] = (
    RoutedEndpoint(
        "generate", "/api/generate", "GenerateRequest", _EMPTY_NOT_FOUND, _INVALID, _NOT_FOUND, unload_field="prompt"
    ),
    RoutedEndpoint("chat", "/api/chat", "ChatRequest", _REQUIRED, _INVALID, _NOT_FOUND, unload_field="messages"),
    RoutedEndpoint("embed", "/api/embed", "EmbedRequest", _EMPTY_NOT_FOUND, _INVALID, _NOT_FOUND),
    RoutedEndpoint(
        "embeddings",
        "/api/embeddings",
        "EmbeddingRequest",
        _REQUIRED,
        _INVALID,
        Refusal(404, 'model "{model}" not found, try pulling it first'),
    ),
    RoutedEndpoint("show", "/api/show", "ShowRequest", _REQUIRED, _INVALID, _NOT_FOUND, fields=("model", "name")),
    RoutedEndpoint(
        "pull",
        "/api/pull",
        "PullRequest",
        _INVALID,
        _INVALID,
        _NOT_ROUTED,
        access=Access.ADMIN,
        fields=("model", "name"),
    ),
    RoutedEndpoint(
        "push",
        "/api/push",
        "PushRequest",
        _REQUIRED,
        _INVALID,
        _NOT_ROUTED,
        access=Access.ADMIN,
        fields=("model", "name"),
    ),
    RoutedEndpoint(
        "create",
        "/api/create",
        "CreateRequest",
        _INVALID,
        _INVALID,
        _NOT_ROUTED,
        access=Access.ADMIN,
        fields=("model", "name"),
    ),
    RoutedEndpoint(
        "copy",
        "/api/copy",
        "CopyRequest",
        Refusal(400, 'source "" is invalid'),
        Refusal(400, 'source "{model}" is invalid'),
        Refusal(404, 'model "{model}" not found'),
        access=Access.ADMIN,
        fields=("source",),
    ),
    RoutedEndpoint(
        "delete",
        "/api/delete",
        "DeleteRequest",
        Refusal(400, 'name "" is invalid'),
        Refusal(400, 'name "{model}" is invalid'),
        _NOT_FOUND,
        methods=frozenset({"DELETE"}),
        access=Access.ADMIN,
        fields=("model", "name"),
        everywhere=True,
    ),
    RoutedEndpoint(
        "openai_chat", "/v1/chat/completions", "ChatCompletionRequest", _REQUIRED, _INVALID, _NOT_FOUND, openai=True
    ),
    RoutedEndpoint(
        "openai_completions",
        "/v1/completions",
        "CompletionRequest",
        _EMPTY_NOT_FOUND,
        _INVALID,
        _NOT_FOUND,
        openai=True,
    ),
    RoutedEndpoint(
        "openai_embeddings", "/v1/embeddings", "EmbedRequest", _EMPTY_NOT_FOUND, _INVALID, _NOT_FOUND, openai=True
    ),
    RoutedEndpoint(
        "openai_responses", "/v1/responses", "ResponsesRequest", _REQUIRED, _INVALID, _NOT_FOUND, openai=True
    ),
    RoutedEndpoint(
        "anthropic_messages", "/v1/messages", "MessagesRequest", _REQUIRED, _INVALID, _NOT_FOUND, openai=True
    ),
)
"""The routed endpoints with their exact paths."""

OPENAI_PASSTHROUGH = RoutedEndpoint(
    "openai_other", "/v1/*", "Request", Refusal(404, "404 page not found"), _INVALID, _NOT_FOUND, openai=True
)
"""Any other ``/v1`` path: forwarded when its body names a model, 404 otherwise."""
