#!/bin/sh
# As the official image's entrypoint: before `nginx`, run the executable
# scripts in /docker-entrypoint.d/ in order, then exec the command.
set -e

if [ "$1" = nginx ] || [ "$1" = nginx-debug ]; then
  for f in $(find /docker-entrypoint.d/ -mindepth 1 -maxdepth 1 -type f -name '*.sh' | sort -n); do
    if [ -x "$f" ]; then
      echo "$0: Launching $f"
      "$f"
    else
      echo "$0: Ignoring $f, not executable"
    fi
  done
  echo "$0: Configuration complete; ready for start up"
fi

exec "$@"
