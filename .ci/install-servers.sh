#!/usr/bin/env bash
# Install the real servers and the browser the store contract and serve tests run against:
# Debian virtuoso-opensource (Virtuoso 7) and chromium, and the PyPI package `oxigraph` (the
# server binary) at the same version as the installed pyoxigraph. Idempotent and quiet: each
# part is skipped when already present. Usage: .ci/install-servers.sh [PYTHON]
# PYTHON (default python3) is the interpreter of the environment the tests run in; when it has
# no pyoxigraph yet, the oxigraph part is skipped: run the script again with the venv's python.
set -euo pipefail
PY="${1:-python3}"

need_apt=()
command -v virtuoso-t >/dev/null 2>&1 || need_apt+=(virtuoso-opensource)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
if [ "${#need_apt[@]}" -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq >/dev/null
  $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

oxi_version="$("$PY" -c 'import importlib.metadata as m; print(m.version("pyoxigraph"))' 2>/dev/null || true)"
if [ -z "$oxi_version" ]; then
  echo "oxigraph server: skipped ($PY has no pyoxigraph; run again with the test environment's python)"
else
  have="$("$PY" -c 'import importlib.metadata as m; print(m.version("oxigraph"))' 2>/dev/null || true)"
  if [ "$have" != "$oxi_version" ]; then
    "$PY" -m pip install -q "oxigraph==${oxi_version}"
  fi
  echo "oxigraph server: ${oxi_version}"
fi
echo "virtuoso-t: $(command -v virtuoso-t || echo missing); chromium: $(command -v chromium || echo missing)"
