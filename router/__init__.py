"""The ollama-fleet router: one Ollama-compatible endpoint in front of many Ollama servers.

It reads ``model`` from each Ollama- or OpenAI-style request, forwards the request to a backend the model
map routes that model to, and relays the answer byte for byte. Imports ``config``, starlette, uvicorn
and its own upstream client; never pulumi, ``infra`` or the simulated Ollama (``ollama_sim``).

Its rooms, in the order a request walks through them:

- :mod:`router.edge`: request context, the gate (CORS, access by route, error guard, access log), bodies,
  the router's own responses;
- :mod:`router.endpoints`: the route table and its handlers, merged listings, fan-out, delivery and relay;
- :mod:`router.balancing`: routing table, backends, replicas, circuits, probes, admission, retries;
- :mod:`router.upstream`: the HTTP/1.1 client (connection, response cycle, flow control, pool);

and around them :mod:`router.telemetry` (metrics, logs) and :mod:`router.runtime` (settings, state, the
application, the server), the only room that wires the others together. ``tests/test_boundaries.py``
keeps the import directions.
"""
