#!/usr/bin/env bash
# Set everything up and start the app; the first run builds the database and loads the demo county.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh postgres
# The demo goes in first (on an empty database) so that its accounts exist; `init` then upgrades the schema
# and, on a database without any administrator, creates one and prints its one-time password.
.venv/bin/xueji demo --if-empty
.venv/bin/xueji init
port="${XUEJI_PORT:-8501}"
echo "xueji 已启动:在浏览器中打开 http://localhost:${port}  (Ctrl+C 停止)"
exec .venv/bin/streamlit run streamlit_app.py --server.port "$port" "$@"
