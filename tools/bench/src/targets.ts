/** The targets of issue 6 and their evaluation against the scenario summaries (pure). */
import { growthKiB, ScenarioSummary } from './results';

export type TargetProfile = 'embedded' | 'distributed' | 'none';
export type Verdict = 'PASS' | 'MISS' | 'n/a';

export interface TargetResult {
  scenario: string;
  target: string;
  figure: string;
  verdict: Verdict;
}

/** Growth over idle RSS that no registry process may exceed during the 1 GiB push and pull. */
export const MEMORY_GROWTH_LIMIT_KIB = 32 * 1024;

export const SMALL_REQUEST_SCENARIOS = ['manifest-get-tag', 'manifest-head-digest', 'blob-head', 'tags-list'];

interface Rule {
  matches: (scenario: string) => boolean;
  minRatio: number;
  lowerP99?: boolean;
  lessCpuPerMB?: boolean;
}

const isPush = (s: string) => s.startsWith('push-');
const isPull = (s: string) => s.startsWith('pull-');
const isSmall = (s: string) => SMALL_REQUEST_SCENARIOS.includes(s);

export function rulesFor(profile: TargetProfile): Rule[] {
  switch (profile) {
    case 'embedded':
      return [
        { matches: isPush, minRatio: 2 },
        { matches: isPull, minRatio: 1, lessCpuPerMB: true },
        { matches: isSmall, minRatio: 3, lowerP99: true },
        { matches: (s) => s === 'manifest-put', minRatio: 2 },
      ];
    case 'distributed':
      return [
        { matches: (s) => isPush(s) || isPull(s), minRatio: 1.5 },
        { matches: (s) => isSmall(s) || s === 'manifest-put', minRatio: 1.5 },
      ];
    case 'none':
      return [];
  }
}

export function fmt(value: number | undefined, digits = 2): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  if (Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(digits);
}

function describe(rule: Rule): string {
  const parts = [`≥ ${rule.minRatio}×`];
  if (rule.lowerP99) parts.push('lower p99');
  if (rule.lessCpuPerMB) parts.push('less CPU/MB');
  return parts.join(', ');
}

function evaluateRule(summary: ScenarioSummary, rule: Rule): TargetResult {
  const { ours, reference } = summary;
  const base = { scenario: summary.name, target: describe(rule) };
  if (!ours || !reference) return { ...base, figure: 'no baseline', verdict: 'n/a' };
  if (ours.errors > 0 || reference.errors > 0) {
    return { ...base, figure: `errors: ours ${ours.errors}, reference ${reference.errors}`, verdict: 'MISS' };
  }
  const figures = [`${fmt(summary.ratio)}× (${fmt(ours.value)} vs ${fmt(reference.value)} ${summary.unit})`];
  let pass = summary.ratio >= rule.minRatio;
  if (rule.lowerP99) {
    figures.push(`p99 ${fmt(ours.p99Ms)} vs ${fmt(reference.p99Ms)} ms`);
    pass = pass && ours.p99Ms !== undefined && reference.p99Ms !== undefined && ours.p99Ms < reference.p99Ms;
  }
  if (rule.lessCpuPerMB) {
    figures.push(`CPU ${fmt(ours.cpuMsPerMB)} vs ${fmt(reference.cpuMsPerMB)} ms/MB`);
    pass = pass && ours.cpuMsPerMB !== undefined && reference.cpuMsPerMB !== undefined && ours.cpuMsPerMB < reference.cpuMsPerMB;
  }
  return { ...base, figure: figures.join('; '), verdict: Number.isFinite(summary.ratio) && pass ? 'PASS' : 'MISS' };
}

/** Memory: during the 1 GiB push and pull, no process of ours grows more than the limit over its idle RSS. */
function evaluateMemory(summary: ScenarioSummary): TargetResult {
  const base = { scenario: summary.name, target: `every process grows ≤ ${MEMORY_GROWTH_LIMIT_KIB / 1024} MiB over idle RSS` };
  const memory = summary.ours?.memory ?? [];
  if (memory.length === 0) return { ...base, figure: 'no process to sample', verdict: 'n/a' };
  if ((summary.ours?.errors ?? 0) > 0) return { ...base, figure: `errors: ${summary.ours?.errors}`, verdict: 'MISS' };
  const figure = memory.map((m) => `${m.process} +${fmt(growthKiB(m) / 1024, 1)} MiB`).join(', ');
  const pass = memory.every((m) => growthKiB(m) <= MEMORY_GROWTH_LIMIT_KIB);
  return { ...base, figure, verdict: pass ? 'PASS' : 'MISS' };
}

export function evaluateTargets(summaries: readonly ScenarioSummary[], profile: TargetProfile): TargetResult[] {
  const results: TargetResult[] = [];
  const rules = rulesFor(profile);
  for (const summary of summaries) {
    if (summary.name.startsWith('memory-')) {
      if (profile !== 'none') results.push(evaluateMemory(summary));
      continue;
    }
    for (const rule of rules) if (rule.matches(summary.name)) results.push(evaluateRule(summary, rule));
  }
  return results;
}
