#!/bin/bash
# Subset of the official postgres image's docker-entrypoint.sh:
#   POSTGRES_USER (default postgres), POSTGRES_PASSWORD or
#   POSTGRES_PASSWORD_FILE, POSTGRES_DB (default $POSTGRES_USER),
#   POSTGRES_INITDB_ARGS, POSTGRES_HOST_AUTH_METHOD (default scram-sha-256),
#   PGDATA, and /docker-entrypoint-initdb.d/*.sh|*.sql|*.sql.gz on first start.
set -Eeuo pipefail

# file_env VAR [DEFAULT]: VAR from $VAR or from the file named by $VAR_FILE.
file_env() {
  local var="$1" fileVar="${1}_FILE" def="${2:-}" val
  if [ -n "${!var:-}" ] && [ -n "${!fileVar:-}" ]; then
    echo >&2 "error: both $var and $fileVar are set (but are exclusive)"
    exit 1
  fi
  val="$def"
  if [ -n "${!var:-}" ]; then
    val="${!var}"
  elif [ -n "${!fileVar:-}" ]; then
    val="$(<"${!fileVar}")"
  fi
  export "$var"="$val"
  unset "$fileVar"
}

docker_setup_env() {
  file_env POSTGRES_PASSWORD
  file_env POSTGRES_USER postgres
  file_env POSTGRES_DB "$POSTGRES_USER"
  file_env POSTGRES_INITDB_ARGS
  : "${POSTGRES_HOST_AUTH_METHOD:=scram-sha-256}"
  DATABASE_ALREADY_EXISTS=
  if [ -s "$PGDATA/PG_VERSION" ]; then
    DATABASE_ALREADY_EXISTS=true
  fi
}

docker_create_db_directories() {
  mkdir -p "$PGDATA"
  chmod 00700 "$PGDATA" || :
  mkdir -p /var/run/postgresql || :
  chmod 03775 /var/run/postgresql || :
  if [ "$(id -u)" = 0 ]; then
    find "$PGDATA" \! -user postgres -exec chown postgres '{}' +
    find /var/run/postgresql \! -user postgres -exec chown postgres '{}' +
  fi
}

docker_verify_minimum_env() {
  if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
    cat >&2 <<'MSG'
Error: Database is uninitialized and superuser password is not specified.
       You must specify POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE) to a
       non-empty value for the superuser, or set POSTGRES_HOST_AUTH_METHOD=trust
       to allow all connections without a password (not recommended).
MSG
    exit 1
  fi
}

docker_init_database_dir() {
  local pwfile=/dev/null pwargs=()
  if [ -n "$POSTGRES_PASSWORD" ]; then
    pwfile="$(mktemp)"
    printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
    pwargs=(--pwfile="$pwfile")
  fi
  # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is word-split on purpose
  initdb --username="$POSTGRES_USER" "${pwargs[@]}" --auth-local=trust \
    --auth-host="$POSTGRES_HOST_AUTH_METHOD" $POSTGRES_INITDB_ARGS
  [ "$pwfile" = /dev/null ] || rm -f "$pwfile"
}

pg_setup_hba_conf() {
  # Local socket: trust (as upstream); TCP from anywhere: password auth.
  printf '\nhost all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD" >>"$PGDATA/pg_hba.conf"
}

docker_temp_server_start() {
  PGUSER="$POSTGRES_USER" pg_ctl -D "$PGDATA" -w \
    -o "-c listen_addresses='' -p ${PGPORT:-5432}" start
}

docker_temp_server_stop() {
  PGUSER="$POSTGRES_USER" pg_ctl -D "$PGDATA" -m fast -w stop
}

psql_cmd() {
  PGPASSWORD='' psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc "$@"
}

docker_setup_db() {
  if [ "$POSTGRES_DB" != postgres ]; then
    local exists
    exists="$(psql_cmd --dbname postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = '${POSTGRES_DB//\'/\'\'}'")"
    if [ -z "$exists" ]; then
      psql_cmd --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db" ;'
    fi
  fi
}

docker_process_init_files() {
  local f
  for f in "$@"; do
    case "$f" in
      *.sh)
        if [ -x "$f" ]; then echo "$0: running $f"; "$f"
        else echo "$0: sourcing $f"; # shellcheck disable=SC1090
          . "$f"; fi ;;
      *.sql) echo "$0: running $f"; psql_cmd --dbname "$POSTGRES_DB" -f "$f" ;;
      *.sql.gz) echo "$0: running $f"; gunzip -c "$f" | psql_cmd --dbname "$POSTGRES_DB" ;;
      *) echo "$0: ignoring $f" ;;
    esac
  done
}

main() {
  # `docker run IMAGE -c max_connections=50`
  if [ "$#" -eq 0 ] || [ "${1:0:1}" = '-' ]; then
    set -- postgres "$@"
  fi

  if [ "$1" = postgres ]; then
    docker_setup_env
    docker_create_db_directories
    if [ "$(id -u)" = 0 ]; then
      # Drop root (the official image uses gosu; setpriv is in util-linux).
      export HOME=/var/lib/postgresql
      exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
    fi

    if [ -z "$DATABASE_ALREADY_EXISTS" ]; then
      docker_verify_minimum_env
      docker_init_database_dir
      pg_setup_hba_conf
      docker_temp_server_start
      docker_setup_db
      shopt -s nullglob
      docker_process_init_files /docker-entrypoint-initdb.d/*
      shopt -u nullglob
      docker_temp_server_stop
      echo
      echo 'PostgreSQL init process complete; ready for start up.'
      echo
    else
      echo
      echo 'PostgreSQL Database directory appears to contain a database; Skipping initialization'
      echo
    fi
  fi

  exec "$@"
}

main "$@"
