#!/usr/bin/env bash
# apt-get for scripts on a shared machine: waits for another package manager to finish instead of
# failing at once. DPkg::Lock::Timeout covers the dpkg lock; `update` also takes the package
# lists lock, which that option does not cover on every apt, so it is retried while that lock
# is held. Gives up after APT_LOCK_WAIT_SECONDS (600). Usage: scripts/apt-get.sh update|install ...
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
wait_seconds="${APT_LOCK_WAIT_SECONDS:-600}"
deadline=$((SECONDS + wait_seconds))
while true; do
  status=0
  output="$(apt-get -o "DPkg::Lock::Timeout=$wait_seconds" "$@" 2>&1)" || status=$?
  if [[ "$status" -eq 0 ]]; then
    [[ -z "$output" ]] || printf '%s\n' "$output"
    exit 0
  fi
  if grep -qE 'Could not get lock|Unable to lock|Unable to acquire the dpkg frontend lock' <<<"$output" && ((SECONDS < deadline)); then
    echo "apt-get $1: another package manager holds the lock; waiting" >&2
    sleep 5
    continue
  fi
  printf '%s\n' "$output" >&2
  exit "$status"
done
