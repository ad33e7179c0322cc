/**
 * Summarizes V8 CPU profiles:
 * `node dist/tools/bench/src/profile-summary.js [--top N] [--after S] [--totals REGEX] <file.cpuprofile>...`
 * (--after S: ignore the first S seconds of each profile, e.g. the start-up.)
 * Profiles come from `node --cpu-prof --cpu-prof-dir=/tmp/prof bin/ocireg.js registry` (written at exit).
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { CpuProfile, renderProfileSummary, renderTotals, summarizeProfile } from './cpuprofile';

const { values, positionals } = parseArgs({
  args: process.argv.slice(2),
  allowPositionals: true,
  options: { top: { type: 'string' }, totals: { type: 'string' }, after: { type: 'string' } },
});
if (positionals.length === 0) {
  process.stderr.write('usage: profile-summary [--top N] [--after SECONDS] [--totals REGEX] <file.cpuprofile>...\n');
  process.exit(2);
}
const top = Number(values.top ?? 25);
// Piped into `head`: stop quietly when the reader has gone.
process.stdout.on('error', (error: NodeJS.ErrnoException) => process.exit(error.code === 'EPIPE' ? 0 : 1));
for (const file of positionals) {
  const summary = summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, Number(values.after ?? 0));
  process.stdout.write(renderProfileSummary(basename(file), summary, top));
  process.stdout.write(`\nBy total time${values.totals ? ` (functions matching /${values.totals}/)` : ''}:\n\n`);
  process.stdout.write(renderTotals(summary, top, values.totals ? new RegExp(values.totals) : undefined));
  process.stdout.write('\n');
}
