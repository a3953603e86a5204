/**
 * `npm run bench:readme`: the README's Performance table is rendered from a results file between two markers,
 * every figure of the bench is a row of it, and runs that are not full runs are never quoted.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { figures, SECTIONS, type Figure } from '../../bench/figures';
import { END_MARKER, renderPerformance, replaceMarked, START_MARKER, unquotable } from '../../bench/readme';

const README = readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');

const run = { commit: '0123456789abcdef0123456789abcdef01234567', quick: false, sections: [...SECTIONS], stsLatencyMs: 20 };
const machine = {
  date: '2026-12-02T01:00:00.000Z',
  node: 'v20.20.2',
  cpus: 2,
  cpuModel: 'AMD EPYC',
  platform: 'linux 6.1.0 x64',
  totalMemoryGiB: 24,
  loadAverage: '0.50 0.40 0.30',
};
const rows: Figure[] = [
  { measure: 'service CPU per vend', measured: '0.40 ms', target: '<= 0.5 ms at 64', met: true },
  { measure: 'added p50 | p99', measured: '+2 ms', target: '<= +1 ms', met: false },
  { measure: 'JWT verifications per second', measured: '6000', target: '', met: null },
];
const results = { machine, run, durationSeconds: 171.4, loadAverageAtEnd: '0.90 0.50 0.30', figures: rows };

/** The table rows of a rendered block, as arrays of cells (escaped pipes kept inside their cell). */
const tableRows = (block: string): string[][] =>
  block
    .split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('| measure |'))
    .map((l) => l.slice(2, -2).split(/ (?<!\\)\| /));

it('renders one row per figure, with the machine, the commit and the date', () => {
  const block = renderPerformance(results);
  expect(block).toContain('Latest run: 2026-12-02, commit 0123456789ab, Node v20.20.2, 2 CPUs (AMD EPYC), 24 GiB');
  expect(block).toContain('load average 0.50 at the start, 0.90 at the end; the run took 171 s');
  expect(tableRows(block)).toEqual([
    ['service CPU per vend', '0.40 ms', '<= 0.5 ms at 64', 'yes'],
    ['added p50 \\| p99', '+2 ms', '<= +1 ms', 'no'],
    ['JWT verifications per second', '6000', '', ''],
  ]);
});

it('replaces only what lies between the markers, and twice gives the same README', () => {
  const before = `# x\n\nintro\n${START_MARKER}\nold table\n${END_MARKER}\n\nafter\n`;
  const once = replaceMarked(before, 'NEW');
  expect(once).toBe(`# x\n\nintro\n${START_MARKER}\nNEW\n${END_MARKER}\n\nafter\n`);
  expect(replaceMarked(once, 'NEW')).toBe(once);
});

it('refuses a README without both markers once each, in order', () => {
  expect(() => replaceMarked('no markers', 'x')).toThrow(/must hold/);
  expect(() => replaceMarked(`${END_MARKER}\n${START_MARKER}`, 'x')).toThrow(/must hold/);
  expect(() => replaceMarked(`${START_MARKER}${START_MARKER}${END_MARKER}`, 'x')).toThrow(/must hold/);
});

it('quotes only full runs', () => {
  expect(unquotable({ run }, SECTIONS)).toBeUndefined();
  expect(unquotable({ run: { ...run, quick: true } }, SECTIONS)).toMatch(/--quick/);
  expect(unquotable({ run: { ...run, sections: ['vend'] } }, SECTIONS)).toMatch(/left out tokens, realistic/);
});

it('the README holds the markers once, and its table has a row for every figure the bench reports', () => {
  const block = README.slice(README.indexOf(START_MARKER) + START_MARKER.length, README.indexOf(END_MARKER));
  expect(() => replaceMarked(README, block)).not.toThrow();
  const measures = tableRows(block).map((r) => r[0]);
  // A run with nothing measured still names every figure; the README's table must carry them all, in order.
  expect(measures).toEqual(figures({}, { stsLatencyMs: run.stsLatencyMs }).map((f) => f.measure.replace(/\|/g, '\\|')));
});

it('a section not run leaves its figures unmeasured, never met', () => {
  for (const f of figures({}, { stsLatencyMs: 20 })) {
    expect(f.met).toBeNull();
    expect(f.measured).toMatch(/^[-/ ;Bms]*$/);
  }
});
