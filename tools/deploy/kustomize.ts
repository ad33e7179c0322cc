/**
 * A small kustomize: enough of `kustomize build` for the kustomizations under k8s/ (resources: files and
 * directories; patches: strategic-merge patch files; namespace; images). Anything else in a kustomization is
 * refused, so the manifests stay within what this implementation does faithfully. When `kubectl` is on PATH
 * the spec compares this output with `kubectl kustomize`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';

export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; [key: string]: unknown }; [key: string]: unknown };
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const SUPPORTED_FIELDS = new Set(['apiVersion', 'kind', 'resources', 'patches', 'namespace', 'images']);

/** Kinds that are not namespaced among those this repository uses (the namespace transformer skips them). */
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'PersistentVolume', 'StorageClass', 'CustomResourceDefinition', 'PriorityClass']);

/** Strategic-merge keys of the lists that kustomize merges element by element (others are replaced). */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  imagePullSecrets: 'name',
};

/** Every YAML document of a file, as plain data (empty documents dropped); throws on YAML errors. */
export function readYamlDocuments(file: string): unknown[] {
  const docs = parseAllDocuments(fs.readFileSync(file, 'utf8'), { prettyErrors: true });
  return docs.flatMap((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value: unknown = doc.toJS();
    return value === null || value === undefined ? [] : [value];
  });
}

export function isK8sObject(value: unknown): value is K8sObject {
  const v = value as Partial<K8sObject> | null;
  return typeof v === 'object' && v !== null && typeof v.apiVersion === 'string' && typeof v.kind === 'string' && typeof v.metadata?.name === 'string';
}

export function objectId(o: { kind: string; metadata: { name: string; namespace?: string } }): string {
  return `${o.kind}/${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
}

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Strategic merge patch of plain data: maps merge, `null` deletes, keyed lists merge by key, others replace. */
export function strategicMerge(target: Json, patch: Json, field = ''): Json {
  if (isObject(target) && isObject(patch)) {
    const out: JsonObject = { ...target };
    for (const [key, value] of Object.entries(patch)) {
      if (value === null) delete out[key];
      else out[key] = key in out ? strategicMerge(out[key], value, key) : value;
    }
    return out;
  }
  const mergeKey = MERGE_KEYS[field];
  if (mergeKey && Array.isArray(target) && Array.isArray(patch)) {
    const out = [...target];
    for (const item of patch) {
      const index = isObject(item) ? out.findIndex((t) => isObject(t) && t[mergeKey] === item[mergeKey]) : -1;
      if (index >= 0) out[index] = strategicMerge(out[index], item, '');
      else out.push(item);
    }
    return out;
  }
  return patch;
}

type Kustomization = {
  resources?: string[];
  patches?: { path?: string; patch?: string; target?: unknown }[];
  namespace?: string;
  images?: { name: string; newName?: string; newTag?: string; digest?: string }[];
};

function readKustomization(dir: string): Kustomization {
  const file = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'].map((f) => path.join(dir, f)).find((f) => fs.existsSync(f));
  if (!file) throw new Error(`${dir}: no kustomization.yaml`);
  const [doc, ...rest] = readYamlDocuments(file) as Record<string, unknown>[];
  if (!doc || rest.length > 0) throw new Error(`${file}: expected exactly one document`);
  if (doc.apiVersion !== 'kustomize.config.k8s.io/v1beta1' || doc.kind !== 'Kustomization') throw new Error(`${file}: not a kustomize.config.k8s.io/v1beta1 Kustomization`);
  const unsupported = Object.keys(doc).filter((k) => !SUPPORTED_FIELDS.has(k));
  if (unsupported.length > 0) throw new Error(`${file}: fields this checker does not implement: ${unsupported.join(', ')}`);
  for (const p of (doc.patches as Kustomization['patches']) ?? []) {
    if (!p.path || p.patch !== undefined || p.target !== undefined) throw new Error(`${file}: only "patches: - path: <strategic merge patch file>" is implemented`);
  }
  return doc as Kustomization;
}

function setImage(container: JsonObject, images: NonNullable<Kustomization['images']>): void {
  if (typeof container.image !== 'string') return;
  const match = /^([^@]+?)(?::([^:/@]+))?(?:@(.+))?$/.exec(container.image);
  if (!match) return;
  const image = images.find((i) => i.name === match[1]);
  if (!image) return;
  const name = image.newName ?? match[1];
  if (image.digest) container.image = `${name}@${image.digest}`;
  else if (image.newTag) container.image = `${name}:${image.newTag}`;
  else container.image = `${name}${match[2] ? `:${match[2]}` : ''}${match[3] ? `@${match[3]}` : ''}`;
}

function podSpecs(o: JsonObject): JsonObject[] {
  const spec = o.spec;
  if (!isObject(spec)) return [];
  if (o.kind === 'Pod') return [spec];
  if (o.kind === 'CronJob') {
    const jobSpec = isObject(spec.jobTemplate) ? spec.jobTemplate.spec : undefined;
    return isObject(jobSpec) && isObject(jobSpec.template) && isObject(jobSpec.template.spec) ? [jobSpec.template.spec] : [];
  }
  return isObject(spec.template) && isObject(spec.template.spec) ? [spec.template.spec] : [];
}

/** `kustomize build <dir>`, for the subset described above. */
export function kustomizeBuild(dir: string): K8sObject[] {
  const k = readKustomization(dir);
  let objects: K8sObject[] = [];
  for (const resource of k.resources ?? []) {
    const target = path.resolve(dir, resource);
    if (fs.statSync(target).isDirectory()) objects.push(...kustomizeBuild(target));
    else {
      for (const doc of readYamlDocuments(target)) {
        if (!isK8sObject(doc)) throw new Error(`${target}: a document without apiVersion, kind and metadata.name`);
        objects.push(doc);
      }
    }
  }
  const ids = new Set<string>();
  for (const o of objects) {
    const id = objectId(o);
    if (ids.has(id)) throw new Error(`${dir}: ${id} is defined twice`);
    ids.add(id);
  }
  for (const p of k.patches ?? []) {
    const file = path.resolve(dir, p.path as string);
    for (const patch of readYamlDocuments(file)) {
      if (!isK8sObject(patch)) throw new Error(`${file}: a patch without apiVersion, kind and metadata.name`);
      const index = objects.findIndex((o) => o.apiVersion === patch.apiVersion && o.kind === patch.kind && o.metadata.name === patch.metadata.name && (!patch.metadata.namespace || o.metadata.namespace === patch.metadata.namespace));
      if (index < 0) throw new Error(`${file}: no ${patch.apiVersion} ${patch.kind} ${patch.metadata.name} to patch`);
      objects[index] = strategicMerge(objects[index] as unknown as Json, patch as unknown as Json) as unknown as K8sObject;
    }
  }
  if (k.namespace) {
    const namespace = k.namespace;
    objects = objects.map((o) => (CLUSTER_SCOPED.has(o.kind) ? o : { ...o, metadata: { ...o.metadata, namespace } }));
  }
  if (k.images?.length) {
    const images = k.images;
    objects = objects.map((o) => {
      const copy = structuredClone(o) as unknown as JsonObject;
      for (const podSpec of podSpecs(copy)) {
        for (const list of ['containers', 'initContainers']) {
          const containers = podSpec[list];
          if (Array.isArray(containers)) containers.filter(isObject).forEach((c) => setImage(c, images));
        }
      }
      return copy as unknown as K8sObject;
    });
  }
  return objects;
}
