"""The offline plan: run the real program under Pulumi's mocks, with no engine, cloud or cluster.

Owns ``python -m infra.offline.plan`` (``make plan``) and what it writes: the recording mocks, the rendering
of registrations into manifests, the strict-schema check and ``summary.md``. The tests share the same
harness. Nothing in the components imports from here.
"""
