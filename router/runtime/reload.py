"""Hot reload: the router watches its model-map file and applies a valid new map without a restart.

Kubernetes updates a mounted ConfigMap by a symlink swap (``..data`` is re-pointed at a new timestamped
directory), which inotify on the file itself would miss, so the watcher polls every
``FLEET_RELOAD_INTERVAL`` seconds: the file's resolved path, inode, mtime and size (one ``stat``), and
only when those change, the content's hash. A changed, valid map is applied with
:meth:`router.runtime.state.FleetState.swap_map` (one reference swap); requests in flight keep the backend
objects they started with and finish on them. A file that does not parse, does not validate, or names
something the router cannot serve is rejected: one error log naming every problem, the old map stays
in force, and ``/fleet/status`` shows the error until a valid file replaces it. The same poll reads the
external backends' token and CA files again when they change (:mod:`router.upstream.secure`).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from pathlib import Path

import yaml

from config.errors import ConfigError, Problem
from config.model_map import ModelMap, parse_model_map
from router.balancing.backends import backend_problems
from router.balancing.resolver import ReplicaResolver
from router.runtime.state import FleetState

logger = logging.getLogger("router.reload")

Fingerprint = tuple[str, int, int, int]


def read_map(data: bytes, source: str) -> ModelMap:
    """A model map from JSON or YAML bytes, validated for this router; ConfigError lists every problem."""
    try:
        document = yaml.safe_load(data)
    except yaml.YAMLError as error:
        raise ConfigError(source, [Problem("", f"cannot read the model map: {error}")]) from None
    if not isinstance(document, dict):
        raise ConfigError(source, [Problem("", "the model map must be a mapping with a 'backends' key")])
    model_map = parse_model_map(document, source)
    problems = backend_problems(model_map)
    if problems:
        raise ConfigError(source, problems)
    return model_map


def load_router_map(path: Path) -> ModelMap:
    """The model map the router starts with (a missing or invalid file is a ConfigError)."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ConfigError(str(path), [Problem("", f"cannot read the model map: {error}")]) from None
    return read_map(data, str(path))


class MapWatcher:
    """Polls the model-map file and applies its changes (see the module docstring)."""

    def __init__(self, state: FleetState, resolver: ReplicaResolver) -> None:
        self.state = state
        self.resolver = resolver
        self.path = state.settings.model_map
        self._seen: Fingerprint | None = None
        self._digest = b""
        self._unreadable = False

    def _fingerprint(self) -> Fingerprint:
        real = os.path.realpath(self.path)
        stat = os.stat(real)
        return real, stat.st_ino, stat.st_mtime_ns, stat.st_size

    async def check(self) -> bool:
        """Look at the file once; returns whether a new map was applied."""
        try:
            fingerprint = self._fingerprint()
            if fingerprint == self._seen:
                return False
            data = Path(fingerprint[0]).read_bytes()
        except OSError as error:
            if not self._unreadable:
                self._unreadable = True
                self._reject(ConfigError(str(self.path), [Problem("", f"cannot read the model map: {error}")]))
            self._seen, self._digest = None, b""
            return False
        self._unreadable = False
        self._seen = fingerprint
        digest = hashlib.sha256(data).digest()
        if digest == self._digest:
            return False
        self._digest = digest
        try:
            model_map = read_map(data, str(self.path))
        except ConfigError as error:
            self._reject(error)
            return False
        if model_map.version == self.state.table.version:
            self.state.reload_error = None
            return False
        await self.apply(model_map)
        return True

    def _reject(self, error: ConfigError) -> None:
        self.state.reject_map(error)
        problems = [str(problem) for problem in error.problems]
        logger.error(
            "model map rejected; the previous map stays in force",
            extra={"path": str(self.path), "version": self.state.table.version, "problems": problems},
        )

    async def apply(self, model_map: ModelMap) -> None:
        """Make ``model_map`` live, then look up the replicas of the ``resolve: true`` backends it added."""
        previous = self.state.table.version
        added, removed = self.state.swap_map(model_map)
        logger.info(
            "model map reloaded",
            extra={
                "previous_version": previous,
                "version": model_map.version,
                "added_backends": [backend.name for backend in added],
                "removed_backends": [backend.name for backend in removed],
            },
        )
        await self.resolver.refresh(added)

    async def run(self) -> None:
        """Check every ``FLEET_RELOAD_INTERVAL`` seconds until cancelled (a lifespan-owned task)."""
        while True:
            await asyncio.sleep(self.state.settings.reload_interval)
            try:
                await self.check()
                self.state.backends.refresh_credentials()
            except Exception:
                logger.exception("checking the model map failed")
