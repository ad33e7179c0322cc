/**
 * `node dist/tools/bench/src/launch-app.js <app>`: runs one of our apps exactly as `node bin/ocireg.js <app>`
 * does (it requires that file), under a command line of its own, so that someone on the same machine
 * stopping "ocireg.js" processes by name (pkill -f) does not stop the registries of a benchmark run.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

let root = __dirname;
while (!existsSync(join(root, 'bin', 'ocireg.js'))) {
  const parent = dirname(root);
  if (parent === root) throw new Error('cannot find bin/ocireg.js');
  root = parent;
}
void import(join(root, 'bin', 'ocireg.js'));
