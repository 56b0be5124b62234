"""The fleet's own workloads: one Ollama StatefulSet per pool, the model-map ConfigMap and the router in front."""
