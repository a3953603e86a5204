/**
 * Tests that need something this machine may lack (a binary, a server of their own) say so when they are
 * skipped: a line on the console naming what is skipped and why, and the reason in the skipped test's name.
 * Nothing is skipped silently.
 */
type Body = jest.ProvidesCallback;

/** `it` when `ok`, else a skipped `it` that says why. */
export function itWhen(ok: boolean, why: string): (name: string, fn: Body, timeout?: number) => void {
  return (name, fn, timeout) => {
    if (ok) return void it(name, fn, timeout);
    console.warn(`skipping "${name}": ${why}`);
    it.skip(`${name} (skipped: ${why})`, fn, timeout);
  };
}

/** `describe` when `ok`, else a skipped `describe` that says why. */
export function describeWhen(ok: boolean, why: string): (name: string, fn: () => void) => void {
  return (name, fn) => {
    if (ok) return void describe(name, fn);
    console.warn(`skipping "${name}": ${why}`);
    describe.skip(`${name} (skipped: ${why})`, fn);
  };
}

/** Says that part of a test does not run (the test itself still does), and why. */
export function notePartSkipped(what: string, why: string): void {
  console.warn(`not run: ${what}: ${why}`);
}
