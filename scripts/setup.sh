#!/usr/bin/env bash
# Create .venv and install xueji with pinned versions. Usage: scripts/setup.sh [extras], e.g. "postgres,dev".
# Re-runs are cheap: the install is skipped while pyproject.toml and constraints.txt are unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-postgres}"
python="${PYTHON:-python3}"

if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "需要 Python 3.11 或更新版本 (python 3.11+ is required): $python" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv || {
    echo "无法创建虚拟环境;Debian/Ubuntu 上请先安装 python3-venv" >&2
    exit 1
  }
fi
stamp=".venv/.xueji-installed-$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)-${extras//,/-}"
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[${extras}]"
  rm -f .venv/.xueji-installed-*
  touch "$stamp"
fi
