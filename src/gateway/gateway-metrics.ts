/**
 * Metric labels stay bounded: an operation name is a label only once the gateway identified it, and at most
 * MAX_OPERATIONS distinct names per process (a client can send any Action or X-Amz-Target); the rest count as
 * `other`.
 */
const MAX_OPERATIONS = 300;
const seen = new Set<string>();

export function metricOperation(operation: string | undefined): string {
  if (!operation) return 'unidentified';
  if (seen.has(operation)) return operation;
  if (seen.size >= MAX_OPERATIONS) return 'other';
  seen.add(operation);
  return operation;
}
