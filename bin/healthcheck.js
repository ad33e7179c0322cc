#!/usr/bin/env node
// Container health check (Dockerfile HEALTHCHECK, compose): GET /healthz on the operations listener
// (REGISTRY_HTTP_DEBUG_ADDR, `:port` or `host:port`, default :5001). Exit 0 when it answers 2xx, else 1.
// Usage: node bin/healthcheck.js [path]   (path defaults to /healthz; /readyz checks readiness instead)
'use strict';
const http = require('node:http');

const addr = process.env.REGISTRY_HTTP_DEBUG_ADDR || ':5001';
const match = /^(?:\[?([^\]]*)\]?)?:(\d+)$/.exec(addr.trim());
if (!match) {
  process.stderr.write(`healthcheck: cannot parse REGISTRY_HTTP_DEBUG_ADDR=${addr}\n`);
  process.exit(1);
}
const listenHost = match[1] || '';
const host = ['', '0.0.0.0', '::'].includes(listenHost) ? '127.0.0.1' : listenHost;
const req = http.get({ host, port: Number(match[2]), path: process.argv[2] || '/healthz', timeout: 2500 }, (res) => {
  res.resume();
  process.exit(res.statusCode >= 200 && res.statusCode < 300 ? 0 : 1);
});
req.on('timeout', () => req.destroy(new Error('timeout')));
req.on('error', (error) => {
  process.stderr.write(`healthcheck: ${error.message}\n`);
  process.exit(1);
});
