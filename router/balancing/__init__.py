"""Balancing: which backend and which replica answers, and whether it is healthy enough to ask.

Owns the routing table (model name to backends), backends and their replicas, circuits, health probes,
DNS resolution of replicas, residency (which models each replica holds, from ``/api/ps`` polls and the
router's own traffic), ranking and placement (``FLEET_BALANCE``: warm-first by default), admission
queues, and the attempts loop (retries and fallback before the first byte).
May import: ``router.upstream``, ``router.telemetry``.
"""
