#!/usr/bin/env node
// Thin launcher: the CLI is TypeScript compiled to dist/ by `npm run build`.
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const entry = join(__dirname, '..', 'dist', 'client', 'cli.js');
// We support Node 20: the AWS SDK's notice that it will need Node 22 would repeat in every command
// and in every worker / poller log. Set before the SDK loads; an explicit setting wins.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
if (!existsSync(entry)) {
  console.error('ddb-lake is not built yet: run `npm install && npm run build` in ' + join(__dirname, '..'));
  process.exit(2);
}
require(entry).main(process.argv).then(
  (code) => process.exit(code ?? 0),
  (err) => { console.error(err); process.exit(1); },
);
