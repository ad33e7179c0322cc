#!/usr/bin/env node
// Runs a built app: `node bin/ocireg.js <registry|gateway|blob-service|manifest-service|upload-service|migrate>`.
// The libs are imported by their '@ocireg/*' aliases; map them onto the compiled tree in dist/.
'use strict';
const path = require('node:path');
const fs = require('node:fs');

const APPS = ['registry', 'gateway', 'blob-service', 'manifest-service', 'upload-service', 'migrate'];
const app = process.argv[2];
if (!APPS.includes(app)) {
  process.stderr.write(`usage: ocireg <${APPS.join('|')}>\n`);
  process.exit(2);
}
const { wantsMallocTuning, runTuned, stopWithLauncher } = require('./malloc-tuning');
if (wantsMallocTuning(process.env, process.platform)) {
  runTuned(__filename, process.argv.slice(2), app);
  return;
}
stopWithLauncher();
require('./v8-tuning').applyV8Tuning(process.env);
const root = path.join(__dirname, '..');
const dist = path.join(root, 'dist');
const main = path.join(dist, 'apps', app, 'src', 'main.js');
if (!fs.existsSync(main)) {
  process.stderr.write(`${main} is missing: run "npm run build" first\n`);
  process.exit(2);
}
const { compilerOptions } = require(path.join(root, 'tsconfig.base.json'));
const paths = Object.fromEntries(
  Object.entries(compilerOptions.paths).map(([alias, [target]]) => [alias, [target.replace(/^\.\//, '').replace(/\.ts$/, '.js')]]),
);
require('tsconfig-paths').register({ baseUrl: dist, paths, addMatchAll: false });
require(main);
