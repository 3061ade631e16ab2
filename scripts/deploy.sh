#!/usr/bin/env bash
# Builds, ships and deploys the Marquee stack to a Docker Swarm. See --help and docs/deploy.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SERVICES=(account api-v1 api-v2 device-tcp console)
APP_SERVICES=(account api-v1 api-v2 api-v2-next device-tcp console)
# marquee_service_<caller>: one credential per calling service (the kit's SERVICE_CALLERS).
SECRETS=(marquee_jwt_private_key marquee_db_password marquee_db_password_account marquee_db_password_api_v2 marquee_admin_password
  marquee_service_api_v1 marquee_service_api_v2 marquee_service_device_tcp marquee_service_ops)

STACK=marquee
CONTEXT=""
REGISTRY=""
TAG=""
NEXT_TAG=""
NODE_IMAGE=""
BUILD=1
FROM_WORKTREE=0
CANARY=""
ROLLBACK=0
RESOLVE_IMAGE=always
WRITER_IMAGE=""
TIMEOUT=300
NEXT_REPLICAS=1
EXTRA_FILES=()
DOMAIN=""
ACME_EMAIL=""
TLS_CERT=""
TLS_KEY=""

usage() {
  cat <<'EOF'
Usage: scripts/deploy.sh [options]

Builds the service images (tagged with the git revision), creates missing Docker secrets, writes
Traefik's file-provider config and runs `docker stack deploy --detach=false --with-registry-auth`,
then reports whether every service converged. Safe to run again: nothing is rebuilt, recreated or
redeployed that did not change.

Target engine: DOCKER_HOST / DOCKER_CONTEXT from the environment, or --context NAME.

Options:
  --context NAME          Docker context to use (default: the environment's)
  --registry PREFIX       push images to PREFIX (e.g. registry.example.com/marquee) and deploy from it;
                          needed when the Swarm has more than one node
  --tag TAG               image tag (default: git rev-parse --short=12 HEAD)
  --no-build              do not build; deploy images that already carry TAG
  --worktree              build from the working tree as it is (default: from the committed
                          revision, exported with git archive, so an image tagged REV holds REV)
  --node-image IMAGE      Node base image for the build (Dockerfile ARG NODE_IMAGE)
  -f, --file FILE         extra compose file merged over stacks/marquee.yml (repeatable)
  --resolve-image MODE    always | changed | never (passed to docker stack deploy; default always)
  --canary PERCENT        send PERCENT (1-100) of /v2 traffic to api-v2-next running --next-tag;
                          0 switches the canary off and scales api-v2-next to 0
  --next-tag TAG          image tag for api-v2-next (default: TAG)
  --rollback              switch the canary off and roll every app service back to its previous spec
  --writer-image IMAGE    image with /bin/sh used to write Traefik's dynamic-config volume
                          (default: the stack's Traefik image)
  --timeout SECONDS       how long to wait for convergence (default 300)
  --domain NAME           the public host name: HTTPS (:443) and displays over TLS (:7443) get a
  --acme-email EMAIL      certificate for NAME from Let's Encrypt (ACME TLS-ALPN-01 on :443),
                          renewed by Traefik; both options together
  --tls-cert FILE         or: serve this certificate (PEM, chain included) and key instead; they
  --tls-key FILE          become Docker secrets (never printed), named by a hash of their content
                          (without either pair Traefik serves its own self-signed certificate:
                          for tests only; clients then fail verification)
  -h, --help              this text

Environment passed to the stack: PUBLIC_BASE_URL, JWT_KEY_ID, ADMIN_USERNAME (optional).
Secrets (created when missing, never printed): marquee_jwt_private_key (ES256, P-256 PKCS#8 PEM),
marquee_db_password (PostgreSQL's superuser), marquee_db_password_account and
marquee_db_password_api_v2 (the services' own roles, made on the database's first start),
marquee_admin_password. Rotate by removing and redeploying, or by a new name (a database role's
password also needs ALTER ROLE: docs/deploy.md).
EOF
}

die() { echo "deploy: $*" >&2; exit 1; }
log() { echo "deploy: $*" >&2; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --context) CONTEXT="${2:?--context needs a name}"; shift 2 ;;
    --registry) REGISTRY="${2:?--registry needs a prefix}"; shift 2 ;;
    --tag) TAG="${2:?--tag needs a value}"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --worktree) FROM_WORKTREE=1; shift ;;
    --node-image) NODE_IMAGE="${2:?--node-image needs an image}"; shift 2 ;;
    -f|--file) EXTRA_FILES+=("${2:?--file needs a path}"); shift 2 ;;
    --resolve-image) RESOLVE_IMAGE="${2:?--resolve-image needs a mode}"; shift 2 ;;
    --canary) CANARY="${2:?--canary needs a percentage}"; shift 2 ;;
    --next-tag) NEXT_TAG="${2:?--next-tag needs a value}"; shift 2 ;;
    --rollback) ROLLBACK=1; shift ;;
    --writer-image) WRITER_IMAGE="${2:?--writer-image needs an image}"; shift 2 ;;
    --timeout) TIMEOUT="${2:?--timeout needs seconds}"; shift 2 ;;
    --stack) STACK="${2:?--stack needs a name}"; shift 2 ;;
    --domain) DOMAIN="${2:?--domain needs a host name}"; shift 2 ;;
    --acme-email) ACME_EMAIL="${2:?--acme-email needs an address}"; shift 2 ;;
    --tls-cert) TLS_CERT="${2:?--tls-cert needs a file}"; shift 2 ;;
    --tls-key) TLS_KEY="${2:?--tls-key needs a file}"; shift 2 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done

[[ "$STACK" == marquee ]] || die "the stack must be named marquee: Traefik labels refer to marquee_edge"
[[ "$RESOLVE_IMAGE" =~ ^(always|changed|never)$ ]] || die "--resolve-image must be always, changed or never"
[[ "$TIMEOUT" =~ ^[0-9]+$ ]] || die "--timeout must be a number of seconds"
if [[ -n "$CANARY" ]] && ! [[ "$CANARY" =~ ^[0-9]+$ && "$CANARY" -le 100 ]]; then
  die "--canary must be an integer percentage 0-100"
fi
if [[ -n "$CANARY" && "$ROLLBACK" -eq 1 ]]; then die "--canary and --rollback do not combine"; fi
if [[ -n "$DOMAIN" || -n "$ACME_EMAIL" ]]; then
  [[ -n "$DOMAIN" && -n "$ACME_EMAIL" ]] || die "--domain and --acme-email go together (ACME certificate)"
  [[ "$DOMAIN" =~ ^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$ ]] || die "--domain must be a host name, e.g. ads.example.com"
  [[ "$ACME_EMAIL" =~ ^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$ ]] || die "--acme-email must be an email address"
fi
if [[ -n "$TLS_CERT" || -n "$TLS_KEY" ]]; then
  [[ -n "$TLS_CERT" && -n "$TLS_KEY" ]] || die "--tls-cert and --tls-key go together (operator-supplied certificate)"
  [[ -z "$DOMAIN" ]] || die "choose either --domain/--acme-email (ACME) or --tls-cert/--tls-key, not both"
  [[ -r "$TLS_CERT" && -r "$TLS_KEY" ]] || die "cannot read --tls-cert $TLS_CERT or --tls-key $TLS_KEY"
fi

DOCKER_ARGS=()
[[ -n "$CONTEXT" ]] && DOCKER_ARGS=(--context "$CONTEXT")
dk() { docker "${DOCKER_ARGS[@]}" "$@"; }

if [[ -z "$TAG" ]]; then
  TAG="$(git -C "$ROOT" rev-parse --short=12 HEAD)" || die "not a git checkout: pass --tag"
fi
REVISION="$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo "$TAG")"
NEXT_TAG="${NEXT_TAG:-$TAG}"
IMAGE_PREFIX="${REGISTRY:-marquee}"
TRAEFIK_IMAGE="$(sed -n 's/^ *image: *\(traefik:[^ ]*\).*/\1/p' "$ROOT/stacks/marquee.yml" | head -n1)"
WRITER_IMAGE="${WRITER_IMAGE:-$TRAEFIK_IMAGE}"

export MARQUEE_TAG="$TAG" MARQUEE_IMAGE_PREFIX="$IMAGE_PREFIX" API_V2_NEXT_TAG="$NEXT_TAG"

# Traefik's static config, rendered: the ACME block with the operator's email, or without it.
STATIC_DIR="$(mktemp -d "${TMPDIR:-/tmp}/marquee-traefik.XXXXXX")"
trap 'rm -rf "$STATIC_DIR"; cleanup_build_dir' EXIT
TRAEFIK_STATIC_FILE="$STATIC_DIR/traefik.yml"
if [[ -n "$DOMAIN" ]]; then
  sed "s/__ACME_EMAIL__/$ACME_EMAIL/" "$ROOT/traefik/traefik.yml" >"$TRAEFIK_STATIC_FILE"
else
  sed '/^# BEGIN acme/,/^# END acme/d' "$ROOT/traefik/traefik.yml" >"$TRAEFIK_STATIC_FILE"
fi
# Configs are immutable: a content hash in the name makes a changed traefik.yml a new config.
TRAEFIK_CONFIG_VERSION="$(sha256sum "$TRAEFIK_STATIC_FILE" | cut -c1-12)"
export TRAEFIK_STATIC_FILE TRAEFIK_CONFIG_VERSION

# The TLS store's default certificate (traefik/dynamic/tls.yml explains the three cases).
tls_dynamic() {
  if [[ -n "$DOMAIN" ]]; then
    sed "s/__DOMAIN__/$DOMAIN/" "$ROOT/traefik/dynamic/tls.yml"
  elif [[ -n "$TLS_CERT" ]]; then
    printf '%s\n' '# The operator-supplied certificate (scripts/deploy.sh --tls-cert/--tls-key).' 'tls:' '  stores:' '    default:' \
      '      defaultCertificate:' '        certFile: /run/secrets/tls_cert' '        keyFile: /run/secrets/tls_key'
  else
    echo "# no certificate configured: Traefik's self-signed default (scripts/deploy.sh)"
  fi
}

# Operator-supplied certificate and key as Docker secrets, named by their content (immutable).
ensure_tls_secrets() {
  [[ -n "$TLS_CERT" ]] || return 0
  MARQUEE_TLS_VERSION="$(cat "$TLS_CERT" "$TLS_KEY" | sha256sum | cut -c1-12)"
  export MARQUEE_TLS_VERSION
  local name
  name="marquee_tls_cert_$MARQUEE_TLS_VERSION"
  dk secret inspect "$name" >/dev/null 2>&1 || { log "creating secret $name"; dk secret create "$name" - <"$TLS_CERT" >/dev/null; }
  name="marquee_tls_key_$MARQUEE_TLS_VERSION"
  dk secret inspect "$name" >/dev/null 2>&1 || { log "creating secret $name"; dk secret create "$name" - <"$TLS_KEY" >/dev/null; }
  EXTRA_FILES+=("$ROOT/stacks/marquee.tls-file.yml")
}

preflight() {
  local state role
  state="$(dk info --format '{{.Swarm.LocalNodeState}}')" || die "cannot reach the Docker engine"
  [[ "$state" == active ]] || die "this engine is not part of a Swarm (docker swarm init)"
  role="$(dk info --format '{{.Swarm.ControlAvailable}}')"
  [[ "$role" == true ]] || die "this engine is not a Swarm manager"
}

# Placement labels: Traefik (edge ports) and Postgres/Redis (volumes) stay on one labelled node each.
ensure_node_label() {
  local label="$1" self
  if dk node ls -q --filter "node.label=$label=true" | grep -q .; then return; fi
  self="$(dk info --format '{{.Swarm.NodeID}}')"
  log "labelling this manager ($self) $label=true"
  dk node update --label-add "$label=true" "$self" >/dev/null
}

# The build context: the committed tree of REVISION plus the host's node_modules (hard links).
BUILD_DIR=""
cleanup_build_dir() { if [[ -n "$BUILD_DIR" ]]; then rm -rf "$BUILD_DIR"; fi; }
BUILD_CONTEXT=""
prepare_build_context() {
  if [[ "$FROM_WORKTREE" -eq 1 ]]; then BUILD_CONTEXT="$ROOT"; return; fi
  BUILD_DIR="$(mktemp -d "${TMPDIR:-/tmp}/marquee-build.XXXXXX")"
  git -C "$ROOT" archive --format=tar "$REVISION" | tar -x -C "$BUILD_DIR"
  cp -al "$ROOT/node_modules" "$BUILD_DIR/node_modules" 2>/dev/null || cp -a "$ROOT/node_modules" "$BUILD_DIR/node_modules"
  if [[ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no)" ]]; then
    log "note: uncommitted changes are not in the images (building $REVISION; --worktree to include them)"
  fi
  BUILD_CONTEXT="$BUILD_DIR"
}

build_images() {
  [[ -d "$ROOT/node_modules" ]] || die "node_modules missing: run npm ci first (images ship the host-installed production deps)"
  local nodes
  nodes="$(dk node ls -q | wc -l)"
  if [[ -z "$REGISTRY" && "$nodes" -gt 1 ]]; then
    log "warning: $nodes nodes but no --registry: other nodes cannot pull locally built images"
  fi
  prepare_build_context
  # The console's web app is built here on the host (a no-op when current): the image build only
  # copies it, so no bundler runs inside the build image.
  log "building the console's web app"
  node "$BUILD_CONTEXT/services/console/scripts/build-web.mjs" >&2
  local svc args
  for svc in "${SERVICES[@]}"; do
    args=(--build-arg "SERVICE=$svc" --build-arg "GIT_REVISION=$REVISION" -t "$IMAGE_PREFIX/$svc:$TAG")
    [[ -n "$NODE_IMAGE" ]] && args+=(--build-arg "NODE_IMAGE=$NODE_IMAGE")
    log "building $IMAGE_PREFIX/$svc:$TAG"
    dk build -q "${args[@]}" "$BUILD_CONTEXT" >/dev/null
    if [[ -n "$REGISTRY" ]]; then
      log "pushing $IMAGE_PREFIX/$svc:$TAG"
      dk push -q "$IMAGE_PREFIX/$svc:$TAG" >/dev/null
    fi
  done
}

random_password() { node -e "process.stdout.write(require('node:crypto').randomBytes(32).toString('base64url'))"; }
jwt_private_key() {
  node -e "const {generateKeyPairSync}=require('node:crypto');process.stdout.write(generateKeyPairSync('ec',{namedCurve:'P-256'}).privateKey.export({type:'pkcs8',format:'pem'}))"
}

# Secret values go from the generator straight into `docker secret create -` (stdin): never echoed,
# never on a command line, never in a file.
ensure_secrets() {
  local name
  for name in "${SECRETS[@]}"; do
    if dk secret inspect "$name" >/dev/null 2>&1; then continue; fi
    log "creating secret $name"
    case "$name" in
      marquee_jwt_private_key) jwt_private_key | dk secret create "$name" - >/dev/null ;;
      *) random_password | dk secret create "$name" - >/dev/null ;;
    esac
  done
  ensure_redis_secrets
}

# Redis's password lives in two secrets made together: the server's config (`requirepass`, plus
# the health check's `probe` user that may only PING) and the
# clients' REDIS_URL. A secret cannot be read back, so if only one of them exists it cannot be
# completed: say so and stop rather than create a mismatching pair.
ensure_redis_secrets() {
  local have_conf=0 have_url=0
  dk secret inspect marquee_redis_conf >/dev/null 2>&1 && have_conf=1
  dk secret inspect marquee_redis_url >/dev/null 2>&1 && have_url=1
  if ((have_conf && have_url)); then return; fi
  if ((have_conf || have_url)); then
    die "only one of marquee_redis_conf / marquee_redis_url exists; remove it (docker secret rm) to have both made again"
  fi
  log "creating secrets marquee_redis_conf and marquee_redis_url"
  # Hex: nothing to escape in a URL or a config line. The password only ever passes through the
  # environment of these two node processes and their stdin/stdout pipes.
  local password
  password="$(node -e "process.stdout.write(require('node:crypto').randomBytes(32).toString('hex'))")"
  REDIS_PASSWORD="$password" node -e "process.stdout.write('requirepass '+process.env.REDIS_PASSWORD+'\\nuser probe on nopass -@all +ping\\n')" | dk secret create marquee_redis_conf - >/dev/null
  REDIS_PASSWORD="$password" node -e "process.stdout.write('redis://:'+process.env.REDIS_PASSWORD+'@redis:6379')" | dk secret create marquee_redis_url - >/dev/null
}

# Writes one file into Traefik's file-provider volume on the edge node with a one-off Swarm job
# (works against a remote engine; Traefik's file watch picks the change up without a restart).
write_dynamic() {
  local file="$1" content="$2" job="${STACK}_dynamic-writer"
  dk service rm "$job" >/dev/null 2>&1 || true
  # shellcheck disable=SC2016 # $CONTENT and $FILE expand in the job's shell, not here
  dk service create --quiet --detach=false --name "$job" --mode replicated-job --restart-condition none \
    --constraint node.role==manager --constraint node.labels.marquee.edge==true \
    --mount "type=volume,source=${STACK}_traefik-dynamic,target=/dynamic" \
    --env "FILE=$file" --env "CONTENT=$content" \
    "$WRITER_IMAGE" sh -c 'printf "%s\n" "$CONTENT" > "/dynamic/$FILE"' >/dev/null 2>&1 || true
  local state
  state="$(dk service ps --format '{{.CurrentState}}' "$job" 2>/dev/null | head -n1)"
  dk service rm "$job" >/dev/null 2>&1 || true
  # Finished job tasks leave exited containers that keep the volume in use; drop ours if local.
  dk ps -aq --filter "label=com.docker.swarm.service.name=$job" --filter status=exited | xargs -r docker "${DOCKER_ARGS[@]}" rm >/dev/null 2>&1 || true
  [[ "$state" == Complete* ]] || die "could not write Traefik dynamic file $file (writer task: ${state:-none})"
}

canary_off() {
  write_dynamic canary.yml "# canary off (scripts/deploy.sh)"
  if dk service inspect "${STACK}_api-v2-next" >/dev/null 2>&1; then
    dk service scale --detach=false "${STACK}_api-v2-next=0" >/dev/null
  fi
  log "canary off"
}

canary_on() {
  local percent="$1" content
  dk service inspect "${STACK}_api-v2-next" >/dev/null 2>&1 || die "stack not deployed: deploy before --canary"
  log "starting api-v2-next ($IMAGE_PREFIX/api-v2:$NEXT_TAG, $NEXT_REPLICAS replica(s))"
  dk service update --detach=false --quiet --with-registry-auth \
    --image "$IMAGE_PREFIX/api-v2:$NEXT_TAG" --replicas "$NEXT_REPLICAS" "${STACK}_api-v2-next" >/dev/null
  content="$(sed -e "s/weight: [0-9]* # __STABLE_WEIGHT__/weight: $((100 - percent))/" \
                 -e "s/weight: [0-9]* # __NEXT_WEIGHT__/weight: $percent/" "$ROOT/traefik/dynamic/canary.yml")"
  write_dynamic canary.yml "$content"
  log "canary on: $percent% of /v2 to api-v2-next"
}

stack_files() {
  local args=(-c "$ROOT/stacks/marquee.yml") f
  for f in "${EXTRA_FILES[@]}"; do args+=(-c "$f"); done
  printf '%s\n' "${args[@]}"
}

deploy_stack() {
  local files=()
  mapfile -t files < <(stack_files)
  log "deploying stack $STACK at $TAG"
  # --detach=false prints a countdown line per second per service when not on a terminal; keep the
  # rest. Its own wait has no deadline (a crash-looping task would hold it for ever): --timeout
  # bounds it, then report_convergence names the services that did not converge.
  local rc=0
  timeout "$TIMEOUT" docker "${DOCKER_ARGS[@]}" stack deploy --detach=false --with-registry-auth --prune --resolve-image "$RESOLVE_IMAGE" "${files[@]}" "$STACK" 2>&1 |
    sed -u -E '/^(verify: Waiting|overall progress:|[0-9]+\/[0-9]+: )/d' || rc=$?
  case "$rc" in
    0) ;;
    124) log "docker stack deploy still waiting after ${TIMEOUT}s; checking convergence" ;;
    *) die "docker stack deploy failed (exit $rc)" ;;
  esac
}

# Converged = every service runs its desired replicas and no update ended in a rollback or pause.
# With --rollback, a rollback_completed state is the goal rather than a failure.
report_convergence() {
  local expect_rollback="${1:-0}" deadline=$((SECONDS + TIMEOUT)) pending name replicas state started
  while :; do
    pending=0
    while read -r name replicas; do
      [[ -z "$name" ]] && continue
      read -r state started < <(dk service inspect --format '{{if .UpdateStatus}}{{.UpdateStatus.State}} {{.UpdateStatus.StartedAt.Unix}}{{end}}' "$name") || true
      # Only updates started by this run count: an old rollback must not fail an unrelated deploy.
      if [[ -n "${started:-}" && "$started" -lt "$RUN_STARTED" ]]; then state=""; fi
      case "$state" in
        rollback_completed) [[ "$expect_rollback" -eq 1 ]] || die "$name: update failed and was rolled back (see docker service ps $name)" ;;
        rollback_*|paused) die "$name: update ended in $state (see docker service ps $name)" ;;
      esac
      [[ "${replicas%%/*}" == "${replicas##*/}" ]] || pending=$((pending + 1))
    done < <(dk stack services --format '{{.Name}} {{.Replicas}}' "$STACK" | sed 's/ (.*//')
    if [[ "$pending" -eq 0 ]]; then break; fi
    [[ $SECONDS -lt $deadline ]] || { dk stack services "$STACK" >&2; die "$pending service(s) did not converge in ${TIMEOUT}s"; }
    sleep 2
  done
  dk stack services --format 'table {{.Name}}\t{{.Replicas}}\t{{.Image}}' "$STACK"
  log "converged"
}

rollback_all() {
  canary_off
  local svc
  for svc in "${APP_SERVICES[@]}"; do
    [[ "$svc" == api-v2-next ]] && continue
    if dk service inspect --format '{{if .PreviousSpec}}yes{{end}}' "${STACK}_$svc" | grep -q yes; then
      log "rolling back ${STACK}_$svc"
      dk service rollback --detach=false --quiet "${STACK}_$svc" >/dev/null
    else
      log "${STACK}_$svc has no previous spec; left as is"
    fi
  done
}

preflight
# Engine clock (not this machine's) at the start: update timestamps are compared with it.
RUN_STARTED="$(dk info --format '{{.SystemTime}}' | xargs -I{} date -d {} +%s)"
if [[ "$ROLLBACK" -eq 1 ]]; then
  rollback_all
  report_convergence 1
  exit 0
fi
if [[ -n "$CANARY" ]]; then
  if [[ "$CANARY" -eq 0 ]]; then canary_off; else canary_on "$CANARY"; fi
  exit 0
fi

ensure_node_label marquee.edge
ensure_node_label marquee.data
[[ "$BUILD" -eq 1 ]] && build_images
ensure_secrets
ensure_tls_secrets
[[ -n "$DOMAIN$TLS_CERT" ]] || log "warning: no --domain/--acme-email nor --tls-cert/--tls-key: HTTPS and displays over TLS get Traefik's self-signed certificate"
write_dynamic transports.yml "$(cat "$ROOT/traefik/dynamic/transports.yml")"
write_dynamic tls.yml "$(tls_dynamic)"
# A deploy promotes one version: the stack sets api-v2-next to 0 replicas, so the canary router
# must go first or it would point at a service with no tasks.
write_dynamic canary.yml "# canary off (scripts/deploy.sh)"
deploy_stack
report_convergence
