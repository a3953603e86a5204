/**
 * `npm run bench:readme [-- <results file>]`: rewrites the README's Performance table, the part between the two
 * marker comments, from a results file of `npm run bench` (the newest full run in bench/results/ unless one is
 * named). Only a full run is quoted: --quick and --only runs are passed over, or refused when named. The prose around the table (what bounds the
 * misses) is written by hand, so read it again against the new figures.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
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

/** The bench-<date>.json files, newest first (names sort by date). */
export function resultFiles(dir = RESULTS_DIR): string[] {
  // A clean checkout has no results folder until its first run.
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && /^bench-.*\.json$/.test(e.name))
    .map((e) => path.join(dir, e.name))
    .sort()
    .reverse();
}

/** The named file, which must be a full run; else the newest full run, saying which newer ones it passed over. */
function pick(named: string | undefined): { file: string; results: ResultsFile } {
  const read = (file: string): ResultsFile => JSON.parse(readFileSync(file, 'utf8')) as ResultsFile;
  if (named) {
    const results = read(named);
    const why = unquotable(results, SECTIONS);
    if (why) throw new Error(`${path.basename(named)} is not quoted in the README: ${why}`);
    return { file: named, results };
  }
  for (const file of resultFiles()) {
    const results = read(file);
    const why = unquotable(results, SECTIONS);
    if (!why) return { file, results };
    console.log(`skipping ${path.basename(file)}: ${why}`);
  }
  throw new Error(`no full run in ${RESULTS_DIR}: run npm run bench first`);
}

function main(): void {
  const { file, results } = pick(process.argv[2] ? path.resolve(process.argv[2]) : undefined);
  const readmeFile = path.join(__dirname, '..', 'README.md');
  writeFileSync(readmeFile, replaceMarked(readFileSync(readmeFile, 'utf8'), renderPerformance(results)));
  console.log(`README.md: Performance table from ${path.relative(process.cwd(), file)}`);
}

if (require.main === module) {
  try {
    main();
  } catch (err) {
    console.error(`bench:readme: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
