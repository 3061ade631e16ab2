#!/usr/bin/env bash
# Real-Swarm test (npm run test:swarm): deploys the production stack with its test override on a
# one-node Swarm on this machine and exercises the platform through the published edge ports.
#   1. Docker: installs Debian's docker.io when absent, starts dockerd when not running.
#   2. `docker swarm init --advertise-addr 127.0.0.1` when this engine is not in a Swarm.
#   3. Local base images (scripts/swarm/images.sh), service images and deploy via scripts/deploy.sh
#      with stacks/marquee.swarm-test.yml merged in.
#   4. scripts/swarm/exercise.ts: platform flow with playing displays, device-tcp killed and
#      stopped (drain), api-v2 rolled A → B, back with deploy.sh --rollback and to a failing
#      version that Swarm rolls back, each under mixed read/write load; PostgreSQL and Redis
#      restarted; network isolation, idempotent redeploy, canary on/off; every acknowledged write
#      and play read back.
#   5. Teardown, on success and on failure: stack, volumes, secrets, configs; leaves the Swarm and
#      stops dockerd only if this run created them.
# Env: SWARM_TEST_KEEP=1 leaves the stack running for inspection; SWARM_TEST_WORKTREE=1 builds the
# images from the working tree instead of the committed revision; SWARM_TEST_NO_BUILD=1 deploys the
# images an earlier run built for this revision (iterating on the checks or the stack files).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STACK=marquee
LOGDIR="$ROOT/.data/swarm-test"
TAG="swarmtest-$(git -C "$ROOT" rev-parse --short=12 HEAD 2>/dev/null || echo local)"
STARTED_DOCKERD=0
INITED_SWARM=0
mkdir -p "$LOGDIR"

log() { echo "swarm-test: $*" >&2; }

diagnostics() {
  log "diagnostics in $LOGDIR"
  docker stack ps --no-trunc --format '{{.Name}} {{.CurrentState}} {{.Error}}' "$STACK" >"$LOGDIR/stack-ps.txt" 2>&1 || true
  local svc
  for svc in $(docker stack services --format '{{.Name}}' "$STACK" 2>/dev/null); do
    # Bounded: `docker service logs` can hang on a task that is being replaced.
    timeout 30 docker service logs --no-trunc --tail 80 "$svc" >"$LOGDIR/$svc.log" 2>&1 || true
  done
  tail -n 30 "$LOGDIR/stack-ps.txt" >&2 || true
}

wait_gone() { # $1 = description, rest = command that prints something while the thing exists
  local what="$1"
  shift
  for _ in $(seq 1 60); do
    [[ -z "$("$@" 2>/dev/null)" ]] && return 0
    sleep 1
  done
  log "warning: $what still present after 60 s"
}

teardown() {
  log "teardown"
  docker service rm "${STACK}_dynamic-writer" >/dev/null 2>&1 || true
  docker stack rm "$STACK" >/dev/null 2>&1 || true
  wait_gone "stack containers" docker ps -aq --filter "label=com.docker.stack.namespace=$STACK"
  wait_gone "stack networks" docker network ls -q --filter "label=com.docker.stack.namespace=$STACK"
  # Volumes stay busy until the last container using them (stack task, writer job, probe) is gone.
  local v
  for v in postgres-data redis-data traefik-dynamic; do
    docker ps -aq --filter "volume=${STACK}_$v" | xargs -r docker rm -f >/dev/null 2>&1 || true
  done
  for _ in $(seq 1 30); do
    for v in postgres-data redis-data traefik-dynamic; do docker volume rm -f "${STACK}_$v" >/dev/null 2>&1 || true; done
    [[ -z "$(docker volume ls -q --filter "name=${STACK}_")" ]] && break
    sleep 1
  done
  docker secret ls -q --filter name=marquee_ | xargs -r docker secret rm >/dev/null 2>&1 || true
  docker config ls -q --filter name=marquee_ | xargs -r docker config rm >/dev/null 2>&1 || true
  if [[ "$INITED_SWARM" -eq 1 ]]; then docker swarm leave --force >/dev/null 2>&1 || true; fi
  if [[ "$STARTED_DOCKERD" -eq 1 ]]; then
    kill "$(cat "$LOGDIR/dockerd.pid")" 2>/dev/null || true
    wait_gone "dockerd" pgrep -F "$LOGDIR/dockerd.pid"
  fi
}

on_exit() {
  local rc=$?
  if [[ "$rc" -ne 0 ]]; then diagnostics; fi
  if [[ "${SWARM_TEST_KEEP:-0}" == 1 ]]; then log "SWARM_TEST_KEEP=1: leaving the stack up"; else teardown; fi
  log "exit $rc"
  exit "$rc"
}
trap on_exit EXIT

ensure_docker() {
  if ! command -v dockerd >/dev/null; then
    log "installing Debian's docker.io"
    "$ROOT/scripts/apt-get.sh" update -qq
    "$ROOT/scripts/apt-get.sh" install -y -qq docker.io >/dev/null
  fi
  if docker info >/dev/null 2>&1; then return; fi
  log "starting dockerd"
  setsid nohup dockerd >"$LOGDIR/dockerd.log" 2>&1 &
  echo $! >"$LOGDIR/dockerd.pid"
  STARTED_DOCKERD=1
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && return
    sleep 1
  done
  tail -n 20 "$LOGDIR/dockerd.log" >&2
  log "dockerd did not start"
  exit 1
}

ensure_swarm() {
  local state
  state="$(docker info --format '{{.Swarm.LocalNodeState}}')"
  if [[ "$state" != active ]]; then
    log "docker swarm init --advertise-addr 127.0.0.1"
    docker swarm init --advertise-addr 127.0.0.1 >/dev/null
    INITED_SWARM=1
  fi
  # A stack left by an interrupted run would make this one test stale state.
  if docker stack ls --format '{{.Name}}' | grep -qx "$STACK"; then
    log "removing a leftover $STACK stack"
    teardown_stack_only
  fi
}

teardown_stack_only() {
  local saved_swarm="$INITED_SWARM" saved_dockerd="$STARTED_DOCKERD"
  INITED_SWARM=0 STARTED_DOCKERD=0
  teardown
  INITED_SWARM="$saved_swarm" STARTED_DOCKERD="$saved_dockerd"
}

ensure_docker
ensure_swarm
[[ -d "$ROOT/node_modules" ]] || { log "node_modules missing: npm ci first"; exit 1; }
"$ROOT/scripts/swarm/images.sh"
# Configs are immutable: name the stand-in's and the entrypoint's configs after their content.
EDGE_STANDIN_VERSION="$(sha256sum "$ROOT/scripts/swarm/edge-standin.mjs" | cut -c1-12)"
POSTGRES_ENTRYPOINT_VERSION="$(sha256sum "$ROOT/scripts/swarm/postgres-entrypoint.sh" | cut -c1-12)"
export EDGE_STANDIN_VERSION POSTGRES_ENTRYPOINT_VERSION
DEPLOY_ARGS=()
[[ "${SWARM_TEST_WORKTREE:-0}" == 1 ]] && DEPLOY_ARGS+=(--worktree)
[[ "${SWARM_TEST_NO_BUILD:-0}" == 1 ]] && DEPLOY_ARGS+=(--no-build)
"$ROOT/scripts/deploy.sh" "${DEPLOY_ARGS[@]}" --tag "$TAG" --node-image marquee-test/node:24 --resolve-image never \
  -f "$ROOT/stacks/marquee.swarm-test.yml" --writer-image marquee-test/node:24 --timeout 300
cd "$ROOT"
STACK="$STACK" EDGE_HTTP=http://127.0.0.1:18080 EDGE_DEVICES=127.0.0.1:17000 SWARM_DEPLOY_TAG="$TAG" \
  node --import tsx --conditions=marquee-source scripts/swarm/exercise.ts
