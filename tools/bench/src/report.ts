/** Renders a benchmark run as Markdown (pure). */
import { growthKiB, ProcessMemory, ScenarioSummary, SideSummary } from './results';
import { fmt, TargetResult } from './targets';

export interface RunInfo {
  date: string;
  commit: string;
  machine: string;
  node: string;
  command: string;
  rounds: number;
  ours: { label: string; description: string };
  reference?: { label: string; description: string };
  notes: string[];
}

function table(header: string[], rows: string[][]): string[] {
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

function valueCell(side: SideSummary | undefined): string {
  if (!side) return '–';
  const value = fmt(side.value);
  return side.errors > 0 ? `${value} (${side.errors} errors)` : value;
}

function latencyCell(side: SideSummary | undefined): string {
  if (!side || side.p50Ms === undefined) return '–';
  return `${fmt(side.p50Ms)} / ${fmt(side.p99Ms)}`;
}

function resultRows(summaries: readonly ScenarioSummary[]): string[][] {
  return summaries.map((s) => [
    s.name,
    s.unit,
    valueCell(s.ours),
    valueCell(s.reference),
    Number.isFinite(s.ratio) ? `${fmt(s.ratio)}×` : '–',
    latencyCell(s.ours),
    latencyCell(s.reference),
  ]);
}

function roundsCell(side: SideSummary | undefined): string {
  if (!side) return '–';
  return side.rounds.map((r) => (r.errors > 0 ? `ERR(${fmt(r.value)})` : fmt(r.value))).join(', ');
}

function mib(kib: number): string {
  return fmt(kib / 1024, 1);
}

function memoryCell(m: ProcessMemory | undefined): string {
  if (!m) return '–';
  const growth = growthKiB(m);
  return `${mib(m.idleKiB)} → ${mib(m.peakKiB)} (${growth >= 0 ? '+' : ''}${mib(growth)})`;
}

function memoryTable(summaries: readonly ScenarioSummary[], info: RunInfo): string[] {
  const columns: Array<{ role: 'ours' | 'reference'; process: string; title: string }> = [];
  for (const role of ['ours', 'reference'] as const) {
    const names = new Set<string>();
    for (const s of summaries) for (const m of s[role]?.memory ?? []) names.add(m.process);
    const label = role === 'ours' ? info.ours.label : (info.reference?.label ?? 'reference');
    for (const process of names) columns.push({ role, process, title: `${label}: ${process}` });
  }
  if (columns.length === 0) return ['No registry process could be sampled (URL targets have no known PIDs).'];
  const rows = summaries.map((s) => [s.name, ...columns.map((c) => memoryCell(s[c.role]?.memory.find((m) => m.process === c.process)))]);
  return table(['scenario', ...columns.map((c) => c.title)], rows);
}

function cpuRows(summaries: readonly ScenarioSummary[], unit: 'MB/s' | 'req/s'): string[][] {
  const pick = (side: SideSummary | undefined, client: boolean) =>
    unit === 'MB/s' ? (client ? side?.clientCpuMsPerMB : side?.cpuMsPerMB) : client ? side?.clientCpuUsPerRequest : side?.cpuUsPerRequest;
  return summaries
    .filter((s) => s.unit === unit)
    .map((s) => [s.name, fmt(pick(s.ours, false)), fmt(pick(s.reference, false)), fmt(pick(s.ours, true)), fmt(pick(s.reference, true))]);
}

export function renderReport(info: RunInfo, summaries: readonly ScenarioSummary[], targets: readonly TargetResult[]): string {
  const ref = info.reference?.label ?? 'no baseline';
  const passed = targets.filter((t) => t.verdict === 'PASS').length;
  const missed = targets.filter((t) => t.verdict === 'MISS').length;
  const lines: string[] = [
    `# Benchmark: ${info.ours.label} vs ${ref}`,
    '',
    `- Date: ${info.date}; commit ${info.commit}`,
    `- Machine: ${info.machine}; Node ${info.node}`,
    `- Command: \`${info.command}\``,
    `- ${info.rounds} round(s) per scenario, the registries alternating (A B, B A, A B ...: neither always runs right after the other); figures are medians over the rounds.`,
    `- ${info.ours.label}: ${info.ours.description}`,
    ...(info.reference ? [`- ${info.reference.label}: ${info.reference.description}`] : []),
    ...info.notes.map((n) => `- ${n}`),
    '',
    '## Results',
    '',
    'Throughput in MB/s (10^6 bytes) or requests/s; latency p50 / p99 in ms; ratio = ours / reference.',
    '',
    ...table(['scenario', 'unit', info.ours.label, ref, 'ratio', `${info.ours.label} p50 / p99`, `${ref} p50 / p99`], resultRows(summaries)),
    '',
    `## Targets: ${passed} PASS, ${missed} MISS`,
    '',
    ...(targets.length === 0 ? ['No targets for this comparison.'] : table(['scenario', 'target', 'figure', 'verdict'], targets.map((t) => [t.scenario, t.target, t.figure, `**${t.verdict}**`]))),
    '',
    '## CPU cost',
    '',
    'utime+stime of every registry process (and of the load generator, "client", which shares the machine), per MB moved',
    '(ms/MB) or per request (µs/request).',
    '',
    ...table(['scenario (ms/MB)', info.ours.label, ref, `client, ${info.ours.label} runs`, `client, ${ref} runs`], cpuRows(summaries, 'MB/s')),
    '',
    ...table(['scenario (µs/request)', info.ours.label, ref, `client, ${info.ours.label} runs`, `client, ${ref} runs`], cpuRows(summaries, 'req/s')),
    '',
    '## Memory: RSS of each registry process, MiB: idle → peak (growth), worst round',
    '',
    ...memoryTable(summaries, info),
    '',
    '## Every round',
    '',
    ...table(['scenario', info.ours.label, ref], summaries.map((s) => [s.name, roundsCell(s.ours), roundsCell(s.reference)])),
  ];
  const errors = summaries.flatMap((s) =>
    (['ours', 'reference'] as const).flatMap((role) => (s[role]?.firstError ? [`- ${s.name} (${role}): ${s[role]?.firstError}`] : [])),
  );
  if (errors.length > 0) lines.push('', '## Errors', '', ...errors);
  return `${lines.join('\n')}\n`;
}
