#!/bin/bash
# Installs everything the build, the tests and the demo need on Debian 12, once:
# Debian packages (scripts/packages.txt) and the npm packages of the test folders.
# Safe to run again; does nothing when all is in place.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
packages=$(grep -v '^#' scripts/packages.txt | tr '\n' ' ')
missing=()
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -q
  # nodejs/npm may already come from elsewhere (a newer Node on the image): keep it.
  if command -v node >/dev/null && command -v npm >/dev/null; then
    missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
  fi
  "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends ${missing[@]}
fi
# The packaged nginx starts a service on port 80 that nothing here uses.
if command -v systemctl >/dev/null && systemctl is-active --quiet nginx 2>/dev/null; then
  "${sudo_cmd[@]}" systemctl stop nginx || true
fi

# npm packages of test and benchmark folders (node_modules is not in git).
while IFS= read -r lock; do
  dir=$(dirname "$lock")
  if [ ! -d "$dir/node_modules" ] || [ "$lock" -nt "$dir/node_modules" ]; then
    echo "setup: npm ci in $dir"
    (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
    touch "$dir/node_modules"
  fi
done < <(find tests client signalling tools -name package-lock.json -not -path '*/node_modules/*' 2>/dev/null | sort)
