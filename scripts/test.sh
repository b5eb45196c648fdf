#!/usr/bin/env bash
# The whole test suite against real PostgreSQL and Redis (started if absent).
set -euo pipefail
cd "$(dirname "$0")/.."
while IFS='=' read -r name value; do export "$name=$value"; done < <(bash scripts/services.sh)
export CODA_TEST_DATABASE_URL="$DATABASE_URL" CODA_TEST_REDIS_URL="$REDIS_URL"
echo "tests against $DATABASE_URL and $REDIS_URL"
.venv/bin/ruff check .
exec .venv/bin/python -m pytest "$@"
