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
# Loopback by default: in production nginx in front (deploy/nginx/) serves HTTPS and the security headers.
# Another address (a replica behind a load balancer on another machine) only when the operator sets it.
address="${XUEJI_ADDRESS:-127.0.0.1}"
echo "xueji 已启动:监听 ${address}:${port};本机浏览器打开 http://127.0.0.1:${port}  (Ctrl+C 停止)"
exec .venv/bin/streamlit run streamlit_app.py --server.address "$address" --server.port "$port" "$@"
