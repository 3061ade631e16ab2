#!/bin/sh
# The services' database roles, on a data directory's first start only: each service logs in as a
# role of its own that owns its schema and nothing else (SERVICE_DATABASES in
# packages/service-kit/src/db-roles.ts, which `npm start` and the tests use; keep the two alike).
# The stacks mount this file as /docker-entrypoint-initdb.d/10-service-roles.sh: the official
# image's entrypoint runs it with psql next to its temporary server; the Swarm test's entrypoint
# (no psql) runs it with --sql and feeds the statements to `postgres --single`.
# Passwords come from Docker secrets, read by the shell's `read` into a variable and written with
# the `printf` builtin: never on a command line, never in a log.
set -eu

service_roles_sql() {
  for entry in \
    "marquee_account account ${ACCOUNT_DB_PASSWORD_FILE:-/run/secrets/db_password_account}" \
    "marquee_api_v2 api_v2 ${API_V2_DB_PASSWORD_FILE:-/run/secrets/db_password_api_v2}"; do
    # shellcheck disable=SC2086 # three words on purpose
    set -- $entry
    password=
    IFS= read -r password <"$3" || true
    case "$password" in
      '' | *\'* | *\\*) echo "service-roles: $3 is empty or holds a quote or a backslash" >&2; exit 1 ;;
    esac
    printf "CREATE ROLE %s LOGIN PASSWORD '%s';\n" "$1" "$password"
    printf 'CREATE SCHEMA %s AUTHORIZATION %s;\n' "$2" "$1"
  done
  # api-v2's migrations need btree_gist; a service role may not create extensions.
  printf 'CREATE EXTENSION IF NOT EXISTS btree_gist SCHEMA api_v2;\n'
}

sql="$(service_roles_sql)"
if [ "${1:-}" = --sql ]; then
  printf '%s\n' "$sql"
else
  printf '%s\n' "$sql" | PGHOST='' PGHOSTADDR='' psql -v ON_ERROR_STOP=1 --no-psqlrc --no-password --quiet \
    --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-${POSTGRES_USER:-postgres}}" >/dev/null
  echo "service-roles: created marquee_account (schema account) and marquee_api_v2 (schema api_v2)"
fi
