"""The runtime: the process around the rooms, and the only place that wires them together.

Owns the settings, the application (lifespan, background services), the process-wide state, the
model-map watcher and the uvicorn server with its drain.
May import: every room.
"""
