/**
 * `npm run bench:readme [-- <results file>]`: rewrites the README's Performance table, the part between the two
 * marker comments, from a results file of `npm run bench` (the latest in bench/results/ unless one is named).
 * Only a full run is quoted: a --quick or --only run is refused. The prose around the table (what bounds the
 * misses) is written by hand, so read it again against the new figures.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SECTIONS, type Figure } from './figures';
import { RESULTS_DIR, type ResultsFile } from './report';

export const START_MARKER = '<!-- bench:start: written by `npm run bench:readme` from bench/results; edit the prose around it, not this -->';
export const END_MARKER = '<!-- bench:end -->';

const cell = (s: string): string => s.replace(/\|/g, '\\|');
const met = (m: boolean | null): string => (m === null ? '' : m ? 'yes' : 'no');

/** Why a results file cannot be quoted in the README, or undefined when it can. */
export function unquotable(r: Pick<ResultsFile, 'run'>, allSections: readonly string[]): string | undefined {
  if (r.run.quick) return 'it is a --quick run';
  const missing = allSections.filter((s) => !r.run.sections.includes(s));
  if (missing.length > 0) return `it left out ${missing.join(', ')} (--only)`;
  return undefined;
}

/** The machine line and the table of figures, as the README shows them. */
export function renderPerformance(r: Pick<ResultsFile, 'machine' | 'run' | 'durationSeconds' | 'loadAverageAtEnd' | 'figures'>): string {
  const m = r.machine;
  const load = (s: string): string => s.split(' ')[0] ?? s;
  const lines = [
    `Latest run: ${m.date.slice(0, 10)}, commit ${r.run.commit.slice(0, 12)}, Node ${m.node}, ${m.cpus} CPUs (${m.cpuModel}), ` +
      `${m.totalMemoryGiB} GiB, ${m.platform}; everything on that one machine (load generator, service, emulator, Redis); ` +
      `load average ${load(m.loadAverage)} at the start, ${load(r.loadAverageAtEnd)} at the end; the run took ${Math.round(r.durationSeconds)} s.`,
    '',
    '| measure | measured | target | met |',
    '|---|---|---|---|',
    ...r.figures.map((f: Figure) => `| ${cell(f.measure)} | ${cell(f.measured)} | ${cell(f.target)} | ${met(f.met)} |`),
  ];
  return lines.join('\n');
}

/** `readme` with the text between the markers replaced by `block`; throws unless each marker is there once. */
export function replaceMarked(readme: string, block: string): string {
  const start = readme.indexOf(START_MARKER);
  const end = readme.indexOf(END_MARKER);
  if (start < 0 || end < 0 || end < start || readme.indexOf(START_MARKER, start + 1) >= 0 || readme.indexOf(END_MARKER, end + 1) >= 0) {
    throw new Error(`README.md must hold ${START_MARKER} and then ${END_MARKER}, once each`);
  }
  return `${readme.slice(0, start + START_MARKER.length)}\n${block}\n${readme.slice(end)}`;
}

/** The newest bench-<date>.json (names sort by date). */
export function latestResults(dir = RESULTS_DIR): string {
  const files = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && /^bench-.*\.json$/.test(e.name))
    .map((e) => e.name)
    .sort();
  const last = files[files.length - 1];
  if (!last) throw new Error(`no results in ${dir}: run npm run bench first`);
  return path.join(dir, last);
}

function main(): void {
  const file = process.argv[2] ? path.resolve(process.argv[2]) : latestResults();
  const results = JSON.parse(readFileSync(file, 'utf8')) as ResultsFile;
  const why = unquotable(results, SECTIONS);
  if (why) throw new Error(`${path.basename(file)} is not quoted in the README: ${why}`);
  const readmeFile = path.join(__dirname, '..', 'README.md');
  writeFileSync(readmeFile, replaceMarked(readFileSync(readmeFile, 'utf8'), renderPerformance(results)));
  console.log(`README.md: Performance table from ${path.relative(process.cwd(), file)}`);
}

if (require.main === module) main();
