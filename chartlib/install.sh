#!/usr/bin/env bash
# The dashboard's chart library (uPlot from npm, pinned in package.json) into chartlib/node_modules
# (gitignored); the server serves its files at /dashboard/vendor/. Without them, charts say how to
# install them and the rest of the dashboard works.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -f node_modules/uplot/dist/uPlot.iife.min.js ]; then
  npm install --no-audit --no-fund --loglevel=error
fi
