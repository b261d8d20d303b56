#!/bin/sh
# As the official alpine variant's: `docker run IMAGE --jetstream` runs nats-server
# with those flags.
set -e

if [ "${1#-}" != "$1" ]; then
  set -- nats-server "$@"
fi

exec "$@"
