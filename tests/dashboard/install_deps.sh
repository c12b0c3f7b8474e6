#!/bin/sh
# Install the dashboard test's npm dependencies (playwright-core, pinned by package-lock.json)
# into DIR/node_modules from the npm registry; skipped when DIR already holds this lock file's
# packages. No browser is downloaded: the test drives Debian's chromium.
#   install_deps.sh DIR
set -eu
dir=$1
cd "$dir"
if [ -f node_modules/.genesis-lock ] && cmp -s package-lock.json node_modules/.genesis-lock; then
  exit 0
fi
npm ci --no-audit --no-fund --ignore-scripts
cp package-lock.json node_modules/.genesis-lock
