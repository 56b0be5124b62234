"""The Pulumi program of ollama-fleet: one component per concept, wired by :mod:`infra.program`.

Everything here is declared from a validated :class:`config.stack.StackConfig`; nothing reads raw config
after :mod:`infra.stack_config` has turned the engine's values into that model.
"""
