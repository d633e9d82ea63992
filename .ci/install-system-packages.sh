#!/usr/bin/env bash
# Debian packages the full test suite uses: a Java runtime (HermiT through owlready2), Virtuoso 7
# (the store contract suite), Chromium (the served page in a headless browser) and chromedriver
# (Selenium drives the annotate workbench with it). Tests that need one skip with a reason
# without it. Idempotent: installs only what is missing.
# The oxigraph server comes from PyPI with the test extras (or .ci/install-servers.sh PYTHON).
set -euo pipefail
need=()
command -v java >/dev/null 2>&1 || need+=(default-jre-headless)
command -v virtuoso-t >/dev/null 2>&1 || need+=(virtuoso-opensource)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq >/dev/null
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
echo "java: $(java -version 2>&1 | head -n 1)"
echo "virtuoso-t: $(command -v virtuoso-t || echo missing); chromium: $(command -v chromium || echo missing); chromedriver: $(command -v chromedriver || echo missing)"
