"""Balancing: which backend and which replica answers, and whether it is healthy enough to ask.

Owns the routing table (model name to backends), backends and their replicas, circuits, health probes,
DNS resolution of replicas, ranking, admission queues, and the attempts loop (retries and fallback
before the first byte).
May import: ``router.upstream``, ``router.telemetry``.
"""
