#!/usr/bin/env bash
# The quick start: set everything up and open the demo county, in files of its own under data/demo/ (database,
# audit key, anchor file), never the deployment's data/xueji.db. XUEJI_DEMO_DATABASE_URL, XUEJI_DEMO_AUDIT_KEY_FILE
# and XUEJI_DEMO_AUDIT_ANCHOR_FILE choose others. Usage: scripts/run.sh [--dry-run] [streamlit options];
# --dry-run installs nothing and loads nothing: it only prints what would be started.
set -euo pipefail
cd "$(dirname "$0")/.."
dry_run=""
if [ "${1:-}" = "--dry-run" ]; then
  dry_run=1
  shift
fi
[ -n "$dry_run" ] || scripts/setup.sh postgres
demo="$PWD/data/demo"
export XUEJI_DATABASE_URL="${XUEJI_DEMO_DATABASE_URL:-sqlite:///$demo/xueji.db}"
export XUEJI_AUDIT_KEY_FILE="${XUEJI_DEMO_AUDIT_KEY_FILE:-$demo/audit.key}"
export XUEJI_AUDIT_ANCHOR_FILE="${XUEJI_DEMO_AUDIT_ANCHOR_FILE:-$demo/audit-anchors.log}"
# A deployment's own settings would reach outside the demo: its audit key, its read-only standby, its first
# administrator's password.
unset XUEJI_AUDIT_KEY XUEJI_READ_DATABASE_URL XUEJI_ADMIN_PASSWORD
if [ -n "$dry_run" ]; then
  echo "将运行:xueji demo --if-empty --city(演示库为空时载入演示市州:长沙市的三个县区,含演示县区浏阳市)"
  exec .venv/bin/xueji serve --demo --dry-run -- "$@"
fi
# On an empty demo database the demo goes in first, so that its accounts exist (and no first administrator with a
# one-time password is needed); `xueji serve --demo` then upgrades the schema and starts the app. The demo city
# (浏阳市 as `xueji demo` builds it, two small counties, demo_city and demo_province) shows supervision too.
.venv/bin/xueji demo --if-empty --city
exec .venv/bin/xueji serve --demo -- "$@"
