#!/usr/bin/env bash
# Installs Debian's `chromium` (headless browser for tests/report_browser.rs) when it is
# missing. Idempotent: does nothing when `chromium` is already on PATH.
# Debian/Ubuntu only (apt-get); elsewhere it says what to install and exits non-zero.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  echo "chromium present: $(command -v chromium)"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "error: no apt-get here; install Chromium (a \`chromium\` binary on PATH) with your package manager" >&2
  exit 1
fi
sudo_cmd=""
[ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
echo "installing: chromium"
$sudo_cmd apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends chromium >/dev/null
command -v chromium >/dev/null 2>&1 || { echo "error: chromium still not on PATH after install" >&2; exit 1; }
echo "chromium installed: $(command -v chromium)"
