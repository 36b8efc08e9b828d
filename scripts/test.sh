#!/usr/bin/env bash
# Set everything up and run the whole suite: lint, types, then pytest on SQLite and PostgreSQL and in Chromium.
# Extra arguments go to pytest (e.g. scripts/test.sh -k division).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh postgres,dev
scripts/system-deps.sh || echo "系统软件包安装失败,相关测试将被跳过或失败" >&2

if [ -z "${XUEJI_TEST_PG_URL:-}" ]; then
  pgdir="$(mktemp -d /tmp/xueji-pg-XXXXXX)"
  trap 'scripts/pg-server.sh stop "$pgdir"' EXIT
  if url="$(scripts/pg-server.sh start "$pgdir")"; then
    export XUEJI_TEST_PG_URL="$url"
    echo "PostgreSQL 测试服务器:$url"
  else
    echo "PostgreSQL 测试服务器未能启动,PostgreSQL 测试将被跳过 (CI 下失败)。" >&2
    cat "$pgdir"/*.log 2>/dev/null | tail -n 20 >&2 || true
  fi
fi

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/python -m pytest --durations=25 "$@"
