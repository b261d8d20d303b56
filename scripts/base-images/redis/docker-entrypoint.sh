#!/bin/bash
# Subset of the official redis image's entrypoint.
set -euo pipefail

[ "$#" -gt 0 ] || set -- redis-server

# `docker run IMAGE --appendonly yes` / `IMAGE /path/redis.conf`
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
  set -- redis-server "$@"
fi

if [ "$1" = redis-server ]; then
  # The official image is built with protected mode off (so other containers
  # can connect without a password). Debian's binary defaults to on: turn it
  # off unless the command line says otherwise. A config file given as the
  # first argument still wins over this default.
  case " $* " in
    *" --protected-mode "*) ;;
    *)
      if [ "$#" -ge 2 ] && [ "${2#-}" = "$2" ]; then
        # redis-server CONFIG_FILE [options]: options must follow the file.
        conf="$2"; shift 2
        if ! grep -qE '^[[:space:]]*protected-mode' "$conf" 2>/dev/null; then
          set -- redis-server "$conf" --protected-mode no "$@"
        else
          set -- redis-server "$conf" "$@"
        fi
      else
        shift
        set -- redis-server --protected-mode no "$@"
      fi
      ;;
  esac

  # Started as root (the default): chown what is not redis's, then drop to
  # redis, as the official image does (with gosu). Not silenced: there, a
  # failing chown stops the container too.
  if [ "$(id -u)" = 0 ]; then
    find . \! -user redis -exec chown redis '{}' +
    export HOME=/var/lib/redis
    exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
  fi
fi

# As upstream: files the server creates (the append-only folder) are private.
um="$(umask)"
if [ "$um" = 0022 ]; then
  umask 0077
fi

exec "$@"
