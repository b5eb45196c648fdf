#!/usr/bin/env bash
# Makes sure PostgreSQL and Redis answer; prints the DATABASE_URL and REDIS_URL to use.
# Uses the machine's services when they answer on their standard ports; otherwise installs
# Debian's postgresql and redis-server and starts private instances (loopback only, data in
# var/services). With CI=true a service that cannot be had is an error, never a skip.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
REDIS="${TEST_REDIS_URL:-redis://127.0.0.1:6379/0}"

answers() { .venv/bin/python - "$1" "$2" <<'PY'
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1).close()
except OSError:
    sys.exit(1)
PY
}

SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
scratch="$(pwd)/var/services"

if ! answers 127.0.0.1 5432; then
  if ! answers 127.0.0.1 55432; then
    command -v pg_ctlcluster >/dev/null || { $SUDO apt-get update -qq; DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >&2; }
    bindir="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
    mkdir -p "$scratch/pg"; chown postgres "$scratch/pg" 2>/dev/null || true
    run_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
    [ -f "$scratch/pg/PG_VERSION" ] || run_pg "$bindir/initdb" -D "$scratch/pg" -A trust -U postgres >&2
    run_pg "$bindir/pg_ctl" -D "$scratch/pg" -o "-p 55432 -k /tmp -c listen_addresses=127.0.0.1" -l "$scratch/pg.log" -w start >&2
    run_pg "$bindir/createdb" -h 127.0.0.1 -p 55432 -U postgres test >&2 || true
  fi
  PG_URL="postgres://postgres@127.0.0.1:55432/test"
fi

if ! answers 127.0.0.1 6379; then
  if ! answers 127.0.0.1 56379; then
    command -v redis-server >/dev/null || { $SUDO apt-get update -qq; DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server >&2; }
    mkdir -p "$scratch/redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port 56379 --save "" --appendonly no \
      --dir "$scratch/redis" --logfile "$scratch/redis.log" >&2
    for _ in $(seq 50); do answers 127.0.0.1 56379 && break; sleep 0.1; done
  fi
  REDIS="redis://127.0.0.1:56379/0"
fi

echo "DATABASE_URL=$PG_URL"
echo "REDIS_URL=$REDIS"
