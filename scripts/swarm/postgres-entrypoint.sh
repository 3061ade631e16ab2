#!/bin/sh
# Entry point of the Swarm test's PostgreSQL image (runs as postgres, uid 999, under dash with no
# other tools): first start initialises a data directory the way the official image does, from
# POSTGRES_USER, POSTGRES_DB and POSTGRES_PASSWORD_FILE, and runs the stack's
# /docker-entrypoint-initdb.d/10-service-roles.sh (the services' roles; single-user mode, as there
# is no psql); every start then execs the postmaster.
# A first start can be killed half-way (on a busy machine its health check may give up during
# initdb): a data directory counts only once it holds the marquee-initialised marker, written last.
# An interrupted attempt's directory cannot be removed (no rm here): the next attempt initialises
# PGDATA-2, -3, ... instead, and every start uses the first complete one.
set -eu
: "${PGDATA:?}" "${POSTGRES_USER:=postgres}" "${POSTGRES_DB:=$POSTGRES_USER}" "${POSTGRES_PASSWORD_FILE:?}"
MARKER=marquee-initialised
data=
for candidate in "$PGDATA" "$PGDATA-2" "$PGDATA-3" "$PGDATA-4" "$PGDATA-5"; do
  if [ -e "$candidate/$MARKER" ]; then data="$candidate"; break; fi
done
if [ -z "$data" ]; then
  for candidate in "$PGDATA" "$PGDATA-2" "$PGDATA-3" "$PGDATA-4" "$PGDATA-5"; do
    if [ ! -e "$candidate" ]; then data="$candidate"; break; fi
  done
  [ -n "$data" ] || { echo "postgres-entrypoint: five interrupted initialisations under ${PGDATA%/*}; giving up" >&2; exit 1; }
  [ "$data" = "$PGDATA" ] || echo "postgres-entrypoint: an earlier initialisation was interrupted; initialising $data"
  initdb -D "$data" -U "$POSTGRES_USER" --pwfile="$POSTGRES_PASSWORD_FILE" \
    --auth-local=trust --auth-host=scram-sha-256 --locale=C --encoding=UTF8 >/dev/null
  # Clients come from other containers on the overlay: password auth from anywhere.
  printf 'host all all all scram-sha-256\n' >>"$data/pg_hba.conf"
  if [ "$POSTGRES_DB" != postgres ]; then
    echo "CREATE DATABASE \"$POSTGRES_DB\";" | postgres --single -D "$data" -c jit=off postgres >/dev/null
  fi
  # The statements carry the roles' passwords: through a variable and a pipe, never an argument.
  roles_sql="$(/docker-entrypoint-initdb.d/10-service-roles.sh --sql)"
  printf '%s\n' "$roles_sql" | postgres --single -D "$data" -c jit=off "$POSTGRES_DB" >/dev/null
  : >"$data/$MARKER"
  echo "postgres-entrypoint: initialised $data (database $POSTGRES_DB)"
fi
exec postgres -D "$data" -c listen_addresses='*' -c jit=off "$@"
