#!/usr/bin/env node
'use strict';
// The CLI is bundled by `npm run build` into dist/cli.js; this shim only points there.
const path = require('node:path');
const fs = require('node:fs');
const cli = path.join(__dirname, '..', 'dist', 'cli.js');
if (!fs.existsSync(cli)) {
  console.error('livecycle: dist/cli.js is missing; run `npm run build` first.');
  process.exit(2);
}
require(cli);
