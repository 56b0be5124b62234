"""The fleet simulation benchmark (``make bench-fleet``): routing policies compared on one seeded workload.

Simulated Ollama replicas with Ollama's scheduler simulated (:mod:`ollama_sim.scheduler`: loads one at a
time, ``OLLAMA_NUM_PARALLEL`` slots, ``OLLAMA_MAX_LOADED_MODELS``, keep-alive, eviction when VRAM is
short) serve an open-loop Poisson workload (:mod:`bench.fleet.scenario`) through the real router, once
per ``FLEET_BALANCE`` policy (:mod:`bench.fleet.run`). The report (:mod:`bench.fleet.report`) gives time
to first token, cold starts, completed requests and errors per policy, and a clairvoyant lower bound.
"""
