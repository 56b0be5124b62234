"""ollama-fleet's shared schema: the stack config, the GPU catalog and the model-map document.

Pure pydantic (plus PyYAML to read files): infra and the router both import it, it imports neither.
"""
