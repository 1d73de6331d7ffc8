#!/usr/bin/env bash
# Installs the system packages braingap's build and tests need, when they are missing.
# Debian/Ubuntu only (apt-get); elsewhere it says what to install and carries on.
set -euo pipefail
need=()
# valgrind: `braingap run --metric instructions` counts instructions under callgrind.
for pkg in pkg-config libfontconfig1-dev libfreetype-dev fonts-dejavu-core valgrind; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    echo "installing: ${need[*]}"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "warning: please install ${need[*]} with your package manager" >&2
  fi
fi
