#!/usr/bin/env bash
# Starts or stops a throwaway PostgreSQL cluster for the test suite: initdb in a
# temp dir, listening on 127.0.0.1 only, on a free port.
#   scripts/pg.sh start DIR   prints the admin URL on stdout
#   scripts/pg.sh stop DIR
set -euo pipefail

find_bin() {
  local name=$1
  if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return; fi
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin/"$name" 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$found" ] && echo "$found"
}

cmd=${1:?start|stop}
dir=${2:?directory}
case "$cmd" in
  start)
    initdb=$(find_bin initdb); pg_ctl=$(find_bin pg_ctl)
    if [ -z "$initdb" ] || [ -z "$pg_ctl" ]; then echo "no PostgreSQL server binaries found" >&2; exit 3; fi
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    mkdir -p "$dir"
    # initdb refuses to run as root, so the cluster belongs to an unprivileged user.
    owner=$(id -un)
    if [ "$(id -u)" = 0 ]; then
      owner=postgres
      id -u postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
      chown -R postgres "$dir"
    fi
    as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
    as_owner "$initdb" -D "$dir/data" -U postgres --auth=trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1
    as_owner "$pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" start >/dev/null
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    pg_ctl=$(find_bin pg_ctl)
    if [ -d "$dir/data" ]; then
      if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
      else "$pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true; fi
    fi
    rm -rf "$dir"
    ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
