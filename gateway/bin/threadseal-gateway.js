#!/usr/bin/env node
'use strict';
// The gateway of one org: `threadseal-gateway --config <gateway.json>` (see docs/gateway.md).
require('../dist/main.js')
  .main(process.argv.slice(2))
  .then((code) => process.exit(code))
  .catch((err) => {
    process.stderr.write(`INTERNAL: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
