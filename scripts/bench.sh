#!/usr/bin/env bash
# The benchmarks (bench/README.md) against real PostgreSQL and Redis (started if absent), in the
# order of BENCHMARKS in bench/__init__.py; or only those named: `bash scripts/bench.sh nesting`.
# Each prints its figures, the command that produced them and every aim it missed.
set -euo pipefail
cd "$(dirname "$0")/.."
while IFS='=' read -r name value; do export "$name=$value"; done < <(bash scripts/services.sh)
echo "benchmarks against $DATABASE_URL (a scratch database each) and $REDIS_URL"
if [ "$#" -gt 0 ]; then
  names=("$@")
else
  mapfile -t names < <(.venv/bin/python -c 'from bench import BENCHMARKS; print("\n".join(BENCHMARKS))')
fi
failed=()
for name in "${names[@]}"; do
  .venv/bin/python -m "bench.${name#bench.}" || failed+=("$name")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "benchmarks that did not finish: ${failed[*]}" >&2
  exit 1
fi
