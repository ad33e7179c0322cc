/** Aggregation of V8 .cpuprofile files (node --cpu-prof): self and total time by function and by package (pure). */

export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber?: number;
}

export interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface Entry {
  key: string;
  selfMs: number;
  totalMs: number;
}

export interface ProfileSummary {
  totalMs: number;
  /** Time not idle: everything but the (idle) node. */
  busyMs: number;
  byFunction: Entry[];
  byPackage: Entry[];
}

const SPECIAL = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

/** The package a script belongs to: node_modules/<pkg> (scoped too), node:internal, or the workspace file. */
export function packageOf(frame: CallFrame): string {
  if (SPECIAL.has(frame.functionName) && frame.url === '') return frame.functionName;
  const url = frame.url;
  if (url === '') return '(native/V8)';
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0] === 'internal' ? url.slice(5).split('/').slice(0, 2).join('/') : url.slice(5)}`;
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  const dist = url.indexOf('/dist/');
  return dist >= 0 ? url.slice(dist + '/dist/'.length).replace(/^file:\/\//, '') : url.replace(/^file:\/\//, '');
}

export function functionKey(frame: CallFrame): string {
  if (SPECIAL.has(frame.functionName) && frame.url === '') return frame.functionName;
  const name = frame.functionName || '(anonymous)';
  const url = frame.url.replace(/^file:\/\//, '');
  const modules = url.lastIndexOf('/node_modules/');
  const dist = url.indexOf('/dist/');
  const short = modules >= 0 ? url.slice(modules + '/node_modules/'.length) : dist >= 0 ? url.slice(dist + '/dist/'.length) : url;
  return short ? `${name} ${short}:${frame.lineNumber + 1}` : name;
}

function add(map: Map<string, Entry>, key: string, selfMs: number, totalMs: number): void {
  const entry = map.get(key) ?? { key, selfMs: 0, totalMs: 0 };
  entry.selfMs += selfMs;
  entry.totalMs += totalMs;
  map.set(key, entry);
}

/** Sums the sample intervals per function (self), per function on the stack (total) and per package (self). */
export function summarizeProfile(profile: CpuProfile, afterSeconds = 0): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const functions = new Map<string, Entry>();
  const packages = new Map<string, Entry>();
  let totalMs = 0;
  let idleMs = 0;
  let elapsedMs = 0;
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    elapsedMs += ms;
    const node = byId.get(id);
    if (!node || elapsedMs < afterSeconds * 1000) return;
    totalMs += ms;
    if (node.callFrame.functionName === '(idle)') idleMs += ms;
    add(functions, functionKey(node.callFrame), ms, 0);
    add(packages, packageOf(node.callFrame), ms, 0);
    const onStack = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)?.callFrame;
      if (frame) onStack.add(functionKey(frame));
    }
    for (const key of onStack) add(functions, key, 0, ms);
  });
  const sorted = (map: Map<string, Entry>) => [...map.values()].sort((a, b) => b.selfMs - a.selfMs);
  return { totalMs, busyMs: totalMs - idleMs, byFunction: sorted(functions), byPackage: sorted(packages) };
}

export function renderProfileSummary(name: string, summary: ProfileSummary, top = 25): string {
  const pct = (ms: number) => `${((100 * ms) / Math.max(summary.busyMs, 1e-9)).toFixed(1)}%`;
  const lines = [
    `### ${name}: ${(summary.busyMs / 1000).toFixed(2)} s busy of ${(summary.totalMs / 1000).toFixed(2)} s sampled (percentages of busy time)`,
    '',
    '| self | total | function |',
    '| ---: | ---: | --- |',
    ...summary.byFunction
      .filter((e) => e.key !== '(idle)' && e.key !== '(root)')
      .slice(0, top)
      .map((e) => `| ${pct(e.selfMs)} | ${pct(e.totalMs)} | ${e.key.replace(/\|/g, '\\|')} |`),
    '',
    '| self | package / file |',
    '| ---: | --- |',
    ...summary.byPackage
      .filter((e) => e.key !== '(idle)')
      .slice(0, top)
      .map((e) => `| ${pct(e.selfMs)} | ${e.key} |`),
  ];
  return `${lines.join('\n')}\n`;
}

/** The most expensive functions by total time, to see which entry points (handlers, hooks) cost the most. */
export function renderTotals(summary: ProfileSummary, top = 25, match?: RegExp): string {
  const pct = (ms: number) => `${((100 * ms) / Math.max(summary.busyMs, 1e-9)).toFixed(1)}%`;
  const rows = [...summary.byFunction]
    .filter((e) => !e.key.startsWith('(') && (!match || match.test(e.key)))
    .sort((a, b) => b.totalMs - a.totalMs)
    .slice(0, top)
    .map((e) => `| ${pct(e.totalMs)} | ${pct(e.selfMs)} | ${e.key.replace(/\|/g, '\\|')} |`);
  return ['| total | self | function |', '| ---: | ---: | --- |', ...rows].join('\n') + '\n';
}
