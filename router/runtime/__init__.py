"""The runtime: the process around the rooms, and the only place that wires them together.

Owns the settings, the application (lifespan, background services), the process-wide state, the
model-map watcher, the uvicorn server with its drain, and ``python -m router status`` (a client of
``/fleet/status`` that imports nothing of the server).
May import: every room.
"""
