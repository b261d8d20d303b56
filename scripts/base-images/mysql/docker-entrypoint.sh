#!/bin/bash
# Subset of the official mysql image's entrypoint: MYSQL_ROOT_PASSWORD[_FILE]
# (or MYSQL_ALLOW_EMPTY_PASSWORD), MYSQL_DATABASE, MYSQL_USER and
# MYSQL_PASSWORD[_FILE] on first start. Started as root (the default), it chowns
# what is not mysql's in the data, socket and secure-file-priv folders, then
# drops to mysql (the official image uses gosu; setpriv is in util-linux).
set -Eeo pipefail

DATADIR=/var/lib/mysql
SOCKET=/var/run/mysqld/mysqld.sock

# file_env VAR: VAR from $VAR or from the file named by $VAR_FILE.
file_env() {
  local var="$1" file_var="${1}_FILE" val=""
  if [ -n "${!var:-}" ] && [ -n "${!file_var:-}" ]; then
    echo >&2 "error: both $var and $file_var are set (but are exclusive)"
    exit 1
  fi
  if [ -n "${!var:-}" ]; then
    val="${!var}"
  elif [ -n "${!file_var:-}" ]; then
    val="$(<"${!file_var}")"
  fi
  export "$var"="$val"
  unset "$file_var"
}

sql_string() { printf "'%s'" "${1//\'/\'\'}"; }

init_database() {
  file_env MYSQL_ROOT_PASSWORD
  file_env MYSQL_DATABASE
  file_env MYSQL_USER
  file_env MYSQL_PASSWORD
  if [ -z "$MYSQL_ROOT_PASSWORD" ] && [ -z "${MYSQL_ALLOW_EMPTY_PASSWORD:-}" ]; then
    echo >&2 'error: database is uninitialized and MYSQL_ROOT_PASSWORD (or _FILE) is not set'
    exit 1
  fi
  echo 'Initializing database files'
  mariadb-install-db --datadir="$DATADIR" --skip-test-db --auth-root-authentication-method=normal >/dev/null
  "$@" --skip-networking --socket="$SOCKET" &
  local pid=$! _
  for _ in $(seq 60); do
    mariadb-admin --socket="$SOCKET" ping --silent >/dev/null 2>&1 && break
    sleep 1
  done
  {
    echo "SET @@SESSION.SQL_LOG_BIN=0;"
    echo "DELETE FROM mysql.user WHERE user NOT IN ('mysql.sys', 'mariadb.sys', 'root') OR host NOT IN ('localhost');"
    echo "ALTER USER 'root'@'localhost' IDENTIFIED BY $(sql_string "$MYSQL_ROOT_PASSWORD");"
    echo "CREATE USER 'root'@'%' IDENTIFIED BY $(sql_string "$MYSQL_ROOT_PASSWORD");"
    echo "GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;"
    if [ -n "$MYSQL_DATABASE" ]; then
      echo "CREATE DATABASE IF NOT EXISTS \`$MYSQL_DATABASE\`;"
    fi
    if [ -n "$MYSQL_USER" ] && [ -n "$MYSQL_PASSWORD" ]; then
      echo "CREATE USER $(sql_string "$MYSQL_USER")@'%' IDENTIFIED BY $(sql_string "$MYSQL_PASSWORD");"
      if [ -n "$MYSQL_DATABASE" ]; then
        echo "GRANT ALL ON \`$MYSQL_DATABASE\`.* TO $(sql_string "$MYSQL_USER")@'%';"
      fi
    fi
    echo "FLUSH PRIVILEGES;"
  } | mariadb --protocol=socket --socket="$SOCKET" -uroot
  kill "$pid"
  wait "$pid"
  echo 'MySQL init process done. Ready for start up.'
}

if [ "${1:0:1}" = '-' ]; then
  set -- mysqld "$@"
fi

if [ "$1" = mysqld ] || [ "$1" = mariadbd ]; then
  mkdir -p "$DATADIR" /var/run/mysqld /var/lib/mysql-files
  if [ "$(id -u)" = 0 ]; then
    find "$DATADIR" /var/run/mysqld /var/lib/mysql-files \! -user mysql \
      -exec chown --no-dereference mysql '{}' +
    exec setpriv --reuid=mysql --regid=mysql --init-groups "${BASH_SOURCE[0]}" "$@"
  fi
  if [ ! -d "$DATADIR/mysql" ]; then
    init_database "$@"
  fi
fi

exec "$@"
