"""The ollama-fleet router: one Ollama-compatible endpoint in front of many Ollama servers.

It reads ``model`` from each Ollama- or OpenAI-style request, forwards the request to a backend the model
map routes that model to, and relays the answer byte for byte. Imports ``config``, starlette, uvicorn
and its own upstream client (:mod:`router.upstream`); never pulumi or ``infra``.
"""
