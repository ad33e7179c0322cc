// Validates Kubernetes objects against the Kubernetes OpenAPI schemas compiled into `kubernetes-models`.
// That package is ESM-only (and exports only the "import" condition), which jest's CommonJS sandbox cannot
// load, so deploy-manifests.spec.ts runs this file in a plain Node process:
//   stdin: JSON array of objects; stdout: JSON array of { ok, error? }, one per object, in order.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
const root = dirname(require.resolve('kubernetes-models/package.json'));

async function validate(object) {
  const { apiVersion, kind } = object ?? {};
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || !/^[A-Za-z0-9.]+(\/[A-Za-z0-9]+)?$/.test(apiVersion) || !/^[A-Za-z]+$/.test(kind)) {
    return { ok: false, error: `missing or malformed apiVersion/kind (${apiVersion}/${kind})` };
  }
  const file = join(root, ...apiVersion.split('/'), `${kind}.js`);
  if (!existsSync(file)) return { ok: false, error: `unknown kind ${kind} in ${apiVersion} (no kubernetes-models class)` };
  const module = await import(pathToFileURL(file).href);
  const Model = module[kind];
  if (typeof Model !== 'function' || Model.kind !== kind || Model.apiVersion !== apiVersion) {
    return { ok: false, error: `unknown kind ${kind} in ${apiVersion}` };
  }
  try {
    new Model(object).validate();
    return { ok: true };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

const objects = JSON.parse(readFileSync(0, 'utf8'));
const results = [];
for (const object of objects) results.push(await validate(object));
process.stdout.write(JSON.stringify(results));
