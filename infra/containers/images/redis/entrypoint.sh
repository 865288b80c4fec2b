#!/usr/bin/env bash
# As the official redis image's entrypoint: a redis-server started without a configuration file
# serves every interface of its container (protected mode off); the container's network is what
# limits who reaches it.
set -e
if [ "${1:-}" = redis-server ] && [[ "${2:-}" != *.conf ]]; then
  shift
  set -- redis-server --bind '* -::*' --protected-mode no "$@"
fi
exec "$@"
