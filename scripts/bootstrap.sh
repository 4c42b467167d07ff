#!/usr/bin/env bash
# Set up everything roadsafe needs on a fresh Debian machine: system packages, .venv, Python packages.
# Idempotent: a second run only checks. Called by the Makefile; safe to run by hand.
set -euo pipefail
cd "$(dirname "$0")/.."

DEB_PACKAGES=(
  fonts-noto-cjk        # Chinese glyphs for PDF, charts and screenshots
  poppler-utils         # pdftotext / pdftoppm for report checks
  chromium              # headless browser for page tests and PNG snapshots
  libpango-1.0-0 libpangoft2-1.0-0   # WeasyPrint
)
missing=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3.11}
if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv with $PYTHON"
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade "pip==25.3" 2>/dev/null || true
echo "bootstrap: installing Python packages (pinned by constraints.txt)"
.venv/bin/python -m pip install -q -c constraints.txt -e ".[dev,bench]"
