"""Telemetry: the router's metrics registry and its JSON logging, which every room reports to.

May import: nothing else of the router.
"""
