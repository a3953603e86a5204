import type { Parameters } from 'fast-check';

/**
 * fast-check parameters with a seed that is always logged, so any run (green or red) can be replayed:
 * `FC_SEED=<seed> npx jest <file>` reruns every property of that file with it (`FC_PATH` also replays the
 * shrink path fast-check prints on a failure). Without FC_SEED each property draws a fresh 32-bit seed.
 */
export function propertyParams<T>(name: string, params: Parameters<T> = {}): Parameters<T> {
  const given = process.env.FC_SEED;
  let seed: number;
  if (given !== undefined && given !== '') {
    seed = Number(given);
    if (!Number.isSafeInteger(seed)) throw new TypeError(`FC_SEED must be an integer, got "${given}"`);
  } else {
    seed = (Math.random() * 2 ** 32) >>> 0;
  }
  const path = process.env.FC_PATH || undefined;
  console.info(`fast-check "${name}": seed ${seed}${path ? ` path ${path}` : ''} (replay with FC_SEED=${seed})`);
  return { ...params, seed, ...(path ? { path } : {}) };
}
