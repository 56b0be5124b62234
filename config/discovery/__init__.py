"""``python -m config discover``: propose a stack file from the nodes of a cluster the user already runs."""
