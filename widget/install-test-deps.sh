#!/usr/bin/env bash
# What the widget's browser tests need: the npm dev dependencies (axe-core, injected into test
# pages; terser, for the build) in widget/node_modules (gitignored), then the minified build
# widget/dist/ces.min.js that the server serves. The widget itself has no runtime dependency.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -f node_modules/axe-core/axe.min.js ] || [ ! -x node_modules/.bin/terser ]; then
  npm install --no-audit --no-fund --loglevel=error
fi
./build.sh
