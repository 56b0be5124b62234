"""Developer entry points: ``make demo`` (``python -m scripts.demo``)."""
