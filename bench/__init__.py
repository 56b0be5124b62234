"""``make bench``: what the router costs per streamed line, measured next to nginx and a direct connection.

The simulated Ollama (``ollama_sim``) and the load generator share one CPU; the proxy under test gets
the other (``taskset``). The same scenarios run against the sims directly, through nginx configured as a
streaming reverse proxy (when it is installed), and through the router; every response body is checked
byte for byte against what the sim answers directly. One Markdown table compares them, with ratios to
nginx and to direct, and judges the router against the targets in its ``target`` column (``bench/report.py``).

Run ``python -m bench`` (``--runs N``, ``--quick``; ``--help`` for the rest).
"""
