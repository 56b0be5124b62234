"""Pull once and keep: the init step that fills a replica's volume, and the check that it is complete.

The pull runs as an init container before the server starts: it starts a private ``ollama serve`` on
localhost, skips every model already on the volume (``ollama show`` answers), pulls the rest with retries
and exponential backoff, logs one line per step, and stops the server. The main container therefore only
ever serves a complete model set; its readiness check asks the server for every listed model, so "Ready"
means "server up and all models present" even if someone deletes one later. A pull that keeps failing
exits non-zero and Kubernetes retries the init container with its own backoff; models already pulled are
never fetched again.
"""

from __future__ import annotations

PULL_SCRIPT = r"""set -eu
log() { echo "model-pull: $*"; }
set -- ${FLEET_MODELS:-}
total=$#
if [ "$total" -eq 0 ]; then log "no models listed"; exit 0; fi
ollama serve >/tmp/ollama-pull-server.log 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
waited=0
until ollama list >/dev/null 2>&1; do
  waited=$((waited + 1))
  if [ "$waited" -ge "${PULL_SERVER_WAIT:-120}" ]; then
    log "the local server did not start:"; cat /tmp/ollama-pull-server.log; exit 1
  fi
  sleep 1
done
index=0
for model in "$@"; do
  index=$((index + 1))
  if ollama show "$model" >/dev/null 2>&1; then
    log "[$index/$total] $model is already on the volume, skipping"
    continue
  fi
  attempt=1
  delay="${PULL_BACKOFF:-10}"
  log "[$index/$total] pulling $model"
  until ollama pull "$model"; do
    if [ "$attempt" -ge "${PULL_ATTEMPTS:-6}" ]; then
      log "[$index/$total] giving up on $model after $attempt attempts"; exit 1
    fi
    log "[$index/$total] pull of $model failed (attempt $attempt); retrying in ${delay}s"
    sleep "$delay"
    attempt=$((attempt + 1))
    delay=$((delay * 2))
    if [ "$delay" -gt 300 ]; then delay=300; fi
  done
  log "[$index/$total] $model pulled"
done
log "all $total models are on the volume"
"""

READY_SCRIPT = r"""ollama list >/dev/null 2>&1 || { echo "not ready: the server does not answer"; exit 1; }
for model in ${FLEET_MODELS:-}; do
  ollama show "$model" >/dev/null 2>&1 || { echo "not ready: $model is missing or the server is down"; exit 1; }
done
"""
"""Exit 0 only when the server answers for every listed model (``ollama show`` fails for a missing one)."""
