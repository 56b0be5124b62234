"""The endpoints: one handler per Ollama/OpenAI route, the route table, and delivering answers to clients.

Owns the routes (path, methods, access level, handler), the model-routed handlers and their refusals,
the merged listings, the admin and ops endpoints, fan-out to every backend, and delivery (relaying a
backend's stream, or turning a failure into 502/503/504).
May import: ``router.edge``, ``router.balancing``, ``router.upstream``, ``router.telemetry``.
"""
