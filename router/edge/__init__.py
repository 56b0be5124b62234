"""The edge: what every request meets first and what every answer the router writes itself goes out through.

Owns the per-request context, the gate (request id, CORS, access by the matched route, the error guard,
the access log), key checking, body reading, header parsing and the router's own responses.
May import: ``router.telemetry``. Never the endpoints, balancing, upstream or runtime rooms: handlers
reach the edge by import, the edge reaches handlers only through the route table it is given.
"""
