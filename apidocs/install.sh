#!/usr/bin/env bash
# The API docs page's assets (Swagger UI from npm, pinned in package.json) into apidocs/node_modules
# (gitignored); the server serves them at /api/docs. Without them /api/docs says how to get them.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -f node_modules/swagger-ui-dist/swagger-ui-bundle.js ]; then
  npm install --no-audit --no-fund --loglevel=error
fi
