#!/usr/bin/env bash
# The deployment path: install the app (no test tools), then `xueji serve`, which refuses a database holding the
# demo, creates or upgrades the schema (on an empty database it creates the first administrator and prints the
# one-time password once) and starts the app. It never loads the demo. The database is data/xueji.db, or
# XUEJI_DATABASE_URL. Usage: scripts/serve.sh [--dry-run] [streamlit options]; --dry-run installs nothing and
# changes nothing: it only checks the database and prints what would be started.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--dry-run" ]; then
  shift
  exec .venv/bin/xueji serve --dry-run -- "$@"
fi
scripts/setup.sh postgres
exec .venv/bin/xueji serve -- "$@"
