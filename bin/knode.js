#!/usr/bin/env node
// The installed `knode` command: loads the bundle built by `npm run build` (run by `npm ci` via `prepare`).
import '../dist/cli/main.js';
