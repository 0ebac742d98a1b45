#!/usr/bin/env bash
# Minifies the hand-written widget/ces.js into widget/dist/ces.min.js, which the server serves as
# /widget.js when it exists (server/ces/widget_route.py). One npm dev dependency: terser.
# Prints the raw, gzip -9 and brotli sizes; fails when gzip -9 is over the 4 KB budget.
set -euo pipefail
cd "$(dirname "$0")"
[ -x node_modules/.bin/terser ] || npm install --no-audit --no-fund --loglevel=error
mkdir -p dist
node_modules/.bin/terser ces.js --ecma 2020 --compress passes=3 --mangle --toplevel -o dist/ces.min.js
node -e '
const fs = require("fs"), z = require("zlib");
const raw = fs.readFileSync("dist/ces.min.js");
const gz = z.gzipSync(raw, {level: 9}).length;
const br = z.brotliCompressSync(raw, {params: {[z.constants.BROTLI_PARAM_QUALITY]: 11}}).length;
console.log(`dist/ces.min.js: ${raw.length} B raw, ${gz} B gzip -9, ${br} B brotli`);
if (gz > 4096) { console.error("over the 4096 B gzip budget"); process.exit(1); }
'
