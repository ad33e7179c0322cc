/**
 * Offline checks of everything that deploys the registry: Kubernetes manifests (kustomize base and
 * overlays), the Helm chart, docker-compose.yml, the Dockerfile and .dockerignore.
 *  - every YAML file under k8s/ parses;
 *  - every object of each kustomize build (built here, and compared with `kubectl kustomize` when kubectl is
 *    on PATH) and of the Helm chart rendered with several value sets is validated against the Kubernetes
 *    OpenAPI schemas (npm `kubernetes-models`, in a child Node process since it is ESM-only);
 *  - cross-object checks: probes on the debug port, HPA/PDB/Service targets, ConfigMap/Secret references;
 *  - values.yaml against values.schema.json (ajv), and the schema rejects wrong values;
 *  - `docker-compose config -q` when docker-compose is on PATH.
 */
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { mallocTuning } from '@ocireg/testing';
import { HelmChart } from './helm-template';
import { isK8sObject, K8sObject, kustomizeBuild, objectId, readYamlDocuments } from './kustomize';

const ROOT = path.resolve(__dirname, '../..');
const K8S = path.join(ROOT, 'k8s');
const CHART = path.join(K8S, 'helm', 'ocireg');
const DEBUG_PORT = 5001;
const COMPONENTS = ['gateway', 'blob-service', 'manifest-service', 'upload-service'];
/** Components that have an HPA and a PDB. */
const SCALED = ['gateway', 'blob-service'];
const OVERLAYS = ['dev', 'production'];

function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

type Result = { ok: boolean; error?: string };
/** Validates objects with kubernetes-models in a plain Node process (see k8s-validate.mjs). */
function validateObjects(objects: unknown[]): Result[] {
  const out = execFileSync(process.execPath, [path.join(__dirname, 'k8s-validate.mjs')], { input: JSON.stringify(objects), cwd: ROOT, maxBuffer: 64 << 20 });
  return JSON.parse(out.toString()) as Result[];
}

function expectValid(label: string, objects: K8sObject[]): void {
  const results = validateObjects(objects);
  const problems = results.flatMap((r, i) => (r.ok ? [] : [`${label}: ${objectId(objects[i])}: ${r.error}`]));
  expect(problems).toEqual([]);
  expect(results).toHaveLength(objects.length);
}

// ---- cross-object checks --------------------------------------------------------------------------------

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function podTemplate(o: K8sObject): Any | undefined {
  const spec = o.spec as Any | undefined;
  return ['Deployment', 'StatefulSet', 'DaemonSet', 'Job'].includes(o.kind) ? spec?.template : undefined;
}

function matches(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

function portNumber(container: Any, port: string | number): number | undefined {
  if (typeof port === 'number') return port;
  return (container.ports as Any[] | undefined)?.find((p) => p.name === port)?.containerPort;
}

/** Problems found across the objects of one deployable set (an overlay build, a chart rendering). */
function crossCheck(objects: K8sObject[], options: { externalSecrets?: string[]; namespace?: string; autoscaled?: boolean } = {}): string[] {
  const problems: string[] = [];
  const find = (kind: string, name: string, namespace?: string): K8sObject | undefined =>
    objects.find((o) => o.kind === kind && o.metadata.name === name && o.metadata.namespace === namespace);
  const ids = new Set<string>();
  for (const o of objects) {
    const id = objectId(o);
    if (ids.has(id)) problems.push(`${id} twice`);
    ids.add(id);
    if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(o.metadata.name) || o.metadata.name.length > 253) problems.push(`${id}: invalid name`);
    if (options.namespace && o.kind !== 'Namespace' && o.metadata.namespace !== options.namespace) problems.push(`${id}: not in namespace ${options.namespace}`);
  }
  const workloads = objects.filter((o) => podTemplate(o));
  for (const w of workloads) {
    const template = podTemplate(w) as Any;
    const spec = template.spec as Any;
    const id = objectId(w);
    const selector = (w.spec as Any).selector?.matchLabels as Record<string, string> | undefined;
    if (w.kind !== 'Job' && !matches(selector, template.metadata?.labels)) problems.push(`${id}: selector does not match its pod template`);
    if (w.kind === 'StatefulSet' && !find('Service', (w.spec as Any).serviceName, w.metadata.namespace)) problems.push(`${id}: no Service ${(w.spec as Any).serviceName}`);
    const volumes = new Set(((spec.volumes ?? []) as Any[]).map((v) => v.name));
    for (const t of ((w.spec as Any).volumeClaimTemplates ?? []) as Any[]) volumes.add(t.metadata.name);
    if (spec.serviceAccountName && spec.serviceAccountName !== 'default' && !find('ServiceAccount', spec.serviceAccountName, w.metadata.namespace)) {
      problems.push(`${id}: no ServiceAccount ${spec.serviceAccountName}`);
    }
    for (const c of [...((spec.containers ?? []) as Any[]), ...((spec.initContainers ?? []) as Any[])]) {
      for (const m of (c.volumeMounts ?? []) as Any[]) if (!volumes.has(m.name)) problems.push(`${id}: container ${c.name} mounts unknown volume ${m.name}`);
      for (const e of (c.envFrom ?? []) as Any[]) {
        if (e.configMapRef && !find('ConfigMap', e.configMapRef.name, w.metadata.namespace)) problems.push(`${id}: no ConfigMap ${e.configMapRef.name}`);
        if (e.secretRef && !find('Secret', e.secretRef.name, w.metadata.namespace) && !options.externalSecrets?.includes(e.secretRef.name)) problems.push(`${id}: no Secret ${e.secretRef.name}`);
      }
      for (const e of (c.env ?? []) as Any[]) {
        const secretRef = e.valueFrom?.secretKeyRef;
        if (secretRef && !options.externalSecrets?.includes(secretRef.name)) {
          const secret = find('Secret', secretRef.name, w.metadata.namespace) as Any | undefined;
          if (!secret) problems.push(`${id}: no Secret ${secretRef.name}`);
          else if (!(secretRef.key in { ...(secret.data ?? {}), ...(secret.stringData ?? {}) })) problems.push(`${id}: Secret ${secretRef.name} has no key ${secretRef.key}`);
        }
        const cmRef = e.valueFrom?.configMapKeyRef;
        if (cmRef && !find('ConfigMap', cmRef.name, w.metadata.namespace)) problems.push(`${id}: no ConfigMap ${cmRef.name}`);
      }
      for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
        const port = c[probe]?.httpGet?.port ?? c[probe]?.tcpSocket?.port;
        if (port !== undefined && portNumber(c, port) === undefined) problems.push(`${id}: ${probe} names unknown port ${port}`);
      }
    }
  }

  // The registry's Deployments: probes on the debug port, resources, non-root and read-only root fs.
  const registryDeployments = objects.filter((o) => o.kind === 'Deployment' && COMPONENTS.includes((o.metadata.labels as Any)?.['app.kubernetes.io/component']));
  const components = registryDeployments.map((d) => (d.metadata.labels as Any)['app.kubernetes.io/component']).sort();
  if (JSON.stringify(components) !== JSON.stringify([...COMPONENTS].sort())) problems.push(`registry Deployments: ${components.join(', ')}`);
  for (const d of registryDeployments) {
    const id = objectId(d);
    const spec = (podTemplate(d) as Any).spec as Any;
    const component = (d.metadata.labels as Any)['app.kubernetes.io/component'];
    const [c] = spec.containers as Any[];
    if (JSON.stringify(c.args ?? c.command) !== JSON.stringify([component])) problems.push(`${id}: does not run "${component}"`);
    for (const [probe, probePath] of [['livenessProbe', '/healthz'], ['readinessProbe', '/readyz']]) {
      const get = c[probe]?.httpGet;
      if (!get) problems.push(`${id}: no HTTP ${probe}`);
      else {
        if (portNumber(c, get.port) !== DEBUG_PORT) problems.push(`${id}: ${probe} is not on the debug port ${DEBUG_PORT}`);
        if (get.path !== probePath) problems.push(`${id}: ${probe} path ${get.path}, want ${probePath}`);
      }
    }
    if (!c.resources?.requests?.cpu || !c.resources?.requests?.memory || !c.resources?.limits?.memory) problems.push(`${id}: resource requests/limits missing`);
    if (spec.securityContext?.runAsNonRoot !== true) problems.push(`${id}: not runAsNonRoot`);
    if (c.securityContext?.readOnlyRootFilesystem !== true || c.securityContext?.allowPrivilegeEscalation !== false) problems.push(`${id}: root filesystem writable or privilege escalation allowed`);
    // The debug listener's address, as the processes see it.
    for (const ref of (c.envFrom ?? []) as Any[]) {
      const cm = ref.configMapRef && (find('ConfigMap', ref.configMapRef.name, d.metadata.namespace) as Any | undefined);
      if (cm && cm.data?.REGISTRY_HTTP_DEBUG_ADDR !== `:${DEBUG_PORT}`) problems.push(`${id}: REGISTRY_HTTP_DEBUG_ADDR is not :${DEBUG_PORT}`);
    }
    if (component === 'gateway' && portNumber(c, 'http') !== 5000) problems.push(`${id}: no http port 5000`);
  }

  // HPAs and PDBs target existing Deployments; the gateway and the blob service have both.
  for (const hpa of objects.filter((o) => o.kind === 'HorizontalPodAutoscaler')) {
    const ref = (hpa.spec as Any).scaleTargetRef;
    const target = ref.kind === 'Deployment' && ref.apiVersion === 'apps/v1' ? find('Deployment', ref.name, hpa.metadata.namespace) : undefined;
    if (!target) problems.push(`${objectId(hpa)}: no Deployment ${ref.name}`);
    else if ((target.spec as Any).replicas !== undefined) problems.push(`${objectId(target)}: sets replicas although ${objectId(hpa)} scales it`);
    if ((hpa.spec as Any).minReplicas > (hpa.spec as Any).maxReplicas) problems.push(`${objectId(hpa)}: minReplicas > maxReplicas`);
  }
  for (const pdb of objects.filter((o) => o.kind === 'PodDisruptionBudget')) {
    const selector = (pdb.spec as Any).selector?.matchLabels;
    if (!objects.some((o) => o.kind === 'Deployment' && o.metadata.namespace === pdb.metadata.namespace && matches(selector, (podTemplate(o) as Any).metadata?.labels))) {
      problems.push(`${objectId(pdb)}: selects no Deployment's pods`);
    }
  }
  for (const component of SCALED) {
    const deployment = registryDeployments.find((d) => (d.metadata.labels as Any)['app.kubernetes.io/component'] === component);
    if (!deployment) continue;
    const labels = (podTemplate(deployment) as Any).metadata.labels;
    const hpa = objects.some((o) => o.kind === 'HorizontalPodAutoscaler' && (o.spec as Any).scaleTargetRef.name === deployment.metadata.name);
    if (options.autoscaled !== false && !hpa) problems.push(`${component}: no HorizontalPodAutoscaler`);
    if (!hpa && typeof (deployment.spec as Any).replicas !== 'number') problems.push(`${component}: neither replicas nor an HPA`);
    if (!objects.some((o) => o.kind === 'PodDisruptionBudget' && matches((o.spec as Any).selector?.matchLabels, labels))) problems.push(`${component}: no PodDisruptionBudget`);
  }

  // Services select pods and their named target ports exist there.
  for (const svc of objects.filter((o) => o.kind === 'Service')) {
    const selector = (svc.spec as Any).selector;
    const pods = workloads.filter((w) => w.kind !== 'Job' && w.metadata.namespace === svc.metadata.namespace && matches(selector, (podTemplate(w) as Any).metadata?.labels));
    if (pods.length === 0) problems.push(`${objectId(svc)}: selects no pods`);
    for (const port of ((svc.spec as Any).ports ?? []) as Any[]) {
      if (typeof port.targetPort !== 'string') continue;
      const ok = pods.some((w) => ((podTemplate(w) as Any).spec.containers as Any[]).some((c) => portNumber(c, port.targetPort) !== undefined));
      if (!ok) problems.push(`${objectId(svc)}: no pod port named ${port.targetPort}`);
    }
  }

  // The migration Job.
  const jobs = objects.filter((o) => o.kind === 'Job' && ((podTemplate(o) as Any).spec.containers as Any[]).some((c) => JSON.stringify(c.args ?? c.command) === '["migrate"]'));
  if (jobs.length !== 1) problems.push(`${jobs.length} migration Jobs, want 1`);
  return problems;
}

// ---- the tests -------------------------------------------------------------------------------------------

describe('deployment manifests', () => {
  describe('k8s/', () => {
    const yamlFiles = walk(K8S).filter((f) => /\.ya?ml$/.test(f) && !f.includes(`${path.sep}templates${path.sep}`));

    it('every YAML file parses (Helm templates are checked by rendering them)', () => {
      expect(yamlFiles.length).toBeGreaterThan(10);
      for (const file of yamlFiles) expect(() => readYamlDocuments(file)).not.toThrow();
    });

    it('every kustomization is one this checker builds faithfully', () => {
      const kustomizations = yamlFiles.filter((f) => path.basename(f) === 'kustomization.yaml').map((f) => path.relative(K8S, path.dirname(f)));
      expect(kustomizations.sort()).toEqual(['base', 'overlays/dev', 'overlays/production']);
    });

    it('the validator itself rejects invalid objects and unknown kinds', () => {
      const results = validateObjects([
        { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { template: {} } },
        { apiVersion: 'v1', kind: 'Service', metadata: { name: 'x' }, spec: { ports: [{ port: 'http' }] } },
        { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'x' } },
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { a: 'b' } },
      ]);
      expect(results.map((r) => r.ok)).toEqual([false, false, false, true]);
      expect(results[0].error).toMatch(/selector/);
      expect(results[2].error).toMatch(/unknown kind/);
    });

    const built = new Map<string, K8sObject[]>();
    const builds = new Proxy({} as Record<string, K8sObject[]>, {
      get: (_target, dir: string) => {
        if (!built.has(dir)) built.set(dir, kustomizeBuild(path.join(K8S, dir)));
        return built.get(dir);
      },
    });
    for (const dir of ['base', ...OVERLAYS.map((o) => `overlays/${o}`)]) {
      describe(dir, () => {

        it('every object is valid against the Kubernetes schemas', () => {
          expect(builds[dir].length).toBeGreaterThan(10);
          expectValid(dir, builds[dir]);
        });

        const kubectl = onPath('kubectl');
        (kubectl ? it : it.skip)('the build equals `kubectl kustomize` (kubectl on PATH)', () => {
          const out = execFileSync('kubectl', ['kustomize', path.join(K8S, dir)], { maxBuffer: 64 << 20 }).toString();
          const theirs = parseAllDocuments(out).map((d) => d.toJS() as K8sObject);
          const byId = (objects: K8sObject[]) => Object.fromEntries(objects.map((o) => [objectId(o), o]));
          expect(byId(builds[dir])).toEqual(byId(theirs));
        });
        if (!kubectl) it('notes that kubectl is missing', () => console.warn(`kubectl is not on PATH: ${dir} checked with the built-in kustomize only`));

        if (dir !== 'base') {
          it('cross-object references hold', () => {
            const namespace = dir.endsWith('dev') ? 'ocireg-dev' : 'ocireg';
            expect(crossCheck(builds[dir], { namespace, externalSecrets: dir.endsWith('production') ? ['ocireg-credentials'] : [] })).toEqual([]);
          });
        } else {
          it('cross-object references hold (the Secret comes from the overlays)', () => {
            expect(crossCheck(builds[dir], { externalSecrets: ['ocireg-credentials'] })).toEqual([]);
          });
        }
      });
    }

    it('dev brings Postgres, Redis, NATS with JetStream and MinIO with a bucket Job; production none of them', () => {
      const dev = builds['overlays/dev'];
      const names = (objects: K8sObject[]) => objects.filter((o) => ['StatefulSet', 'Deployment', 'Job'].includes(o.kind)).map((o) => o.metadata.name);
      expect(names(dev)).toEqual(expect.arrayContaining(['postgres', 'redis', 'nats', 'minio', 'minio-create-bucket']));
      const nats = dev.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'nats') as Any;
      expect(nats.spec.template.spec.containers[0].args).toContain('-js');
      expect(names(builds['overlays/production']).filter((n) => !n.startsWith('ocireg-'))).toEqual([]);
    });

    it('production points the ConfigMap elsewhere and runs more replicas than dev', () => {
      const get = (build: string, kind: string, name: string) => builds[build].find((o) => o.kind === kind && o.metadata.name === name) as Any;
      expect(get('overlays/production', 'ConfigMap', 'ocireg-config').data.REGISTRY_REDIS_ADDR).not.toBe(get('overlays/dev', 'ConfigMap', 'ocireg-config').data.REGISTRY_REDIS_ADDR);
      for (const c of SCALED) expect(get('overlays/production', 'HorizontalPodAutoscaler', `ocireg-${c}`).spec.minReplicas).toBeGreaterThan(get('overlays/dev', 'HorizontalPodAutoscaler', `ocireg-${c}`).spec.minReplicas);
      for (const c of ['manifest-service', 'upload-service']) expect(get('overlays/production', 'Deployment', `ocireg-${c}`).spec.replicas).toBeGreaterThan(get('overlays/dev', 'Deployment', `ocireg-${c}`).spec.replicas);
    });
  });

  describe('Helm chart k8s/helm/ocireg', () => {
    const values = parseYaml(fs.readFileSync(path.join(CHART, 'values.yaml'), 'utf8')) as Any;
    const schema = JSON.parse(fs.readFileSync(path.join(CHART, 'values.schema.json'), 'utf8')) as object;
    const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
    addFormats(ajv);
    const validate = ajv.compile(schema);
    const withValue = (pathParts: string[], value: unknown): Any => {
      const copy = structuredClone(values);
      let at = copy;
      for (const p of pathParts.slice(0, -1)) at = at[p];
      at[pathParts[pathParts.length - 1]] = value;
      return copy;
    };

    it('Chart.yaml is a v2 application chart', () => {
      const chart = parseYaml(fs.readFileSync(path.join(CHART, 'Chart.yaml'), 'utf8')) as Any;
      expect(chart).toMatchObject({ apiVersion: 'v2', name: 'ocireg', type: 'application' });
      expect(chart.version).toMatch(/^\d+\.\d+\.\d+/);
    });

    it('values.yaml satisfies values.schema.json', () => {
      expect(validate(values) ? [] : validate.errors).toEqual([]);
    });

    it.each([
      ['a wrong type', ['components', 'blobService', 'replicas'], 'three'],
      ['a bad enum value', ['image', 'pullPolicy'], 'Sometimes'],
      ['a non-string setting', ['config', 'REGISTRY_STORAGE_DELETE_ENABLED'], true],
      ['a credential in the ConfigMap', ['config', 'REGISTRY_DATABASE_URL'], 'postgres://u:p@db/ocireg'],
      ['an unknown key', ['components', 'gateway', 'replica'], 2],
      ['a bad quantity', ['components', 'gateway', 'resources', 'limits', 'memory'], '512 MB'],
    ])('the schema rejects %s', (_label, pathParts, value) => {
      expect(validate(withValue(pathParts as string[], value))).toBe(false);
    });

    const chart = new HelmChart(CHART);
    const variants: [string, Any, { externalSecrets: string[]; autoscaled: boolean }][] = [
      ['defaults', values, { externalSecrets: [], autoscaled: true }],
      ['an existing Secret, no autoscaling, fullnameOverride', withValue(['credentials', 'existingSecret'], 'registry-creds'), { externalSecrets: ['registry-creds'], autoscaled: false }],
    ];
    variants[1][1].fullnameOverride = 'registry';
    for (const c of Object.values(variants[1][1].components as Record<string, Any>)) {
      c.autoscaling.enabled = false;
      c.podDisruptionBudget.enabled = true;
    }

    for (const [label, vals, options] of variants) {
      it(`renders with ${label} into valid, consistent objects`, () => {
        expect(validate(vals) ? [] : validate.errors).toEqual([]);
        const rendered = chart.render(vals, { name: 'reg', namespace: 'registry' });
        const objects: K8sObject[] = [];
        for (const [file, text] of rendered) {
          if (!/\.ya?ml$/.test(file)) continue;
          for (const doc of parseAllDocuments(text)) {
            expect(doc.errors.map((e) => `${file}: ${e.message}`)).toEqual([]);
            const value: unknown = doc.toJS();
            if (value === null || value === undefined) continue;
            expect(isK8sObject(value)).toBe(true);
            objects.push({ ...(value as K8sObject), metadata: { ...(value as K8sObject).metadata, namespace: 'registry' } });
          }
        }
        expectValid(`helm (${label})`, objects);
        expect(crossCheck(objects, options)).toEqual([]);
        const kinds = objects.map((o) => o.kind);
        expect(kinds.filter((k) => k === 'Deployment')).toHaveLength(4);
        expect(kinds).toContain('Job');
      });
    }
  });

  describe('docker-compose.yml', () => {
    const file = path.join(ROOT, 'docker-compose.yml');
    const compose = parseYaml(fs.readFileSync(file, 'utf8'), { merge: true }) as Any;

    (onPath('docker-compose') ? it : it.skip)('`docker-compose config -q` accepts it', () => {
      const result = spawnSync('docker-compose', ['-f', file, 'config', '-q'], { cwd: ROOT, encoding: 'utf8' });
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
    });
    if (!onPath('docker-compose')) it('notes that docker-compose is missing', () => console.warn('docker-compose is not on PATH: `docker-compose config -q` skipped (.ci/run installs it)'));

    it('runs every process, scalable, after its dependencies are healthy and migrated', () => {
      const services = compose.services as Record<string, Any>;
      expect(Object.keys(services)).toEqual(expect.arrayContaining(['postgres', 'redis', 'nats', 'minio', 'minio-setup', 'migrate', ...COMPONENTS]));
      expect(services.nats.command).toContain('-js');
      expect(services.migrate.command).toEqual(['migrate']);
      for (const name of COMPONENTS) {
        const s = services[name];
        expect(s.command).toEqual([name]);
        expect(s.container_name).toBeUndefined();
        if (name !== 'gateway') expect(s.ports).toBeUndefined();
        expect(s.environment.REGISTRY_HTTP_DEBUG_ADDR).toBe(`:${DEBUG_PORT}`);
        expect(s.healthcheck.test.join(' ')).toContain('healthcheck.js');
        expect(s.depends_on.migrate).toEqual({ condition: 'service_completed_successfully' });
      }
      expect(services.gateway.ports).toEqual(['5000:5000']);
      for (const name of ['blob-service', 'manifest-service', 'upload-service']) expect(services.gateway.depends_on[name]).toEqual({ condition: 'service_healthy' });
      expect(services['blob-service'].depends_on['minio-setup']).toEqual({ condition: 'service_completed_successfully' });
    });
  });

  describe('Dockerfile', () => {
    const dockerfile = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    const ignore = fs.readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());

    it('is multi-stage, installs from the lock file, runs as non-root with a health check and an exec-form entrypoint', () => {
      expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
      expect(dockerfile).toMatch(/^RUN npm ci\b/m);
      expect(dockerfile).toMatch(/--omit=dev/);
      const lastStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
      expect(lastStage).toMatch(/^USER (node|[1-9]\d*)\b/m);
      expect(lastStage).toMatch(/^HEALTHCHECK .*CMD \["node", "bin\/healthcheck\.js"\]/m);
      expect(lastStage).toMatch(/^ENTRYPOINT \["node", "bin\/ocireg\.js"\]/m);
      expect(fs.existsSync(path.join(ROOT, 'bin', 'healthcheck.js'))).toBe(true);
    });

    it('sets the launcher\'s malloc settings, so that node (PID 1) runs the app itself instead of a re-executed child', () => {
      const { MALLOC_TUNING } = mallocTuning();
      const lastStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
      expect(Object.keys(MALLOC_TUNING).length).toBeGreaterThan(0);
      for (const [name, value] of Object.entries(MALLOC_TUNING)) expect(lastStage).toMatch(new RegExp(`^\\s*(ENV )?${name}=${value}\\b`, 'm'));
    });

    it('.dockerignore keeps local state out of the build context', () => {
      for (const entry of ['**/node_modules', '**/dist', 'data', '.git', '.env']) expect(ignore).toContain(entry);
      for (const needed of ['package.json', 'package-lock.json', 'tsconfig.base.json', 'tsconfig.build.json', 'apps', 'libs', 'bin']) expect(ignore).not.toContain(needed);
    });
  });
});
