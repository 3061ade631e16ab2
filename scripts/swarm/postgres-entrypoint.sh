#!/bin/sh
# Entry point of the Swarm test's PostgreSQL image (runs as postgres, uid 999, under dash with no
# other tools): first start initialises PGDATA the way the official image does, from
# POSTGRES_USER, POSTGRES_DB and POSTGRES_PASSWORD_FILE, and runs the stack's
# /docker-entrypoint-initdb.d/10-service-roles.sh (the services' roles; single-user mode, as there
# is no psql); every start then execs the postmaster.
set -eu
: "${PGDATA:?}" "${POSTGRES_USER:=postgres}" "${POSTGRES_DB:=$POSTGRES_USER}" "${POSTGRES_PASSWORD_FILE:?}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$POSTGRES_PASSWORD_FILE" \
    --auth-local=trust --auth-host=scram-sha-256 --locale=C --encoding=UTF8 >/dev/null
  # Clients come from other containers on the overlay: password auth from anywhere.
  printf 'host all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
  if [ "$POSTGRES_DB" != postgres ]; then
    echo "CREATE DATABASE \"$POSTGRES_DB\";" | postgres --single -D "$PGDATA" -c jit=off postgres >/dev/null
  fi
  # The statements carry the roles' passwords: through a variable and a pipe, never an argument.
  roles_sql="$(/docker-entrypoint-initdb.d/10-service-roles.sh --sql)"
  printf '%s\n' "$roles_sql" | postgres --single -D "$PGDATA" -c jit=off "$POSTGRES_DB" >/dev/null
  echo "postgres-entrypoint: initialised $PGDATA (database $POSTGRES_DB)"
fi
exec postgres -D "$PGDATA" -c listen_addresses='*' -c jit=off "$@"
