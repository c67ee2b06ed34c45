#!/usr/bin/env node
'use strict';
// The compiled CLI lives in dist/; this shim keeps `npx genrep` working from the repository root after a build.
const path = require('node:path');
const fs = require('node:fs');
const entry = path.join(__dirname, '..', '..', 'dist', 'worker', 'cli', 'main.js');
if (!fs.existsSync(entry)) {
  process.stderr.write(`genrep: not built yet (${entry} is missing); run \`npm run build\` first\n`);
  process.exit(2);
}
require(entry)
  .main(process.argv)
  .then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`genrep: ${err && err.message ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
