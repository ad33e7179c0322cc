#!/usr/bin/env node
// `npm run start:cluster`: the distributed topology on one machine, without Docker. The gateway and the
// three services run as separate processes talking over NATS, with Postgres, Redis and a content store from
// the environment (defaults: the local servers on their standard ports, filesystem content under ./data).
'use strict';
const { spawn } = require('node:child_process');
const path = require('node:path');

const root = path.join(__dirname, '..');
const env = {
  REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: path.join(root, 'data', 'cluster', 'content'),
  ...process.env,
};
const services = ['blob-service', 'manifest-service', 'upload-service'];
const children = [];
let stopping = false;

function start(app, extraEnv = {}) {
  const child = spawn(process.execPath, [path.join(root, 'bin', 'ocireg.js'), app], {
    env: { ...env, ...extraEnv },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  child.on('exit', (code, signal) => {
    if (!stopping) {
      process.stderr.write(`${app} exited (${signal ?? code}); stopping the cluster\n`);
      stop(1);
    }
  });
  children.push(child);
  return child;
}

function stop(code) {
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  setTimeout(() => process.exit(code), 100).unref();
  Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.on('exit', r)) : null))).then(() => process.exit(code));
}

for (const service of services) start(service);
start('gateway');
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
