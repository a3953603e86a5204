/**
 * Modelled parameter constraints (length, range, pattern) checked the way the AWS front end does: every
 * violation of a request is collected, then reported in one `ValidationError` worded like AWS's
 * ("2 validation errors detected: Value '...' at 'roleSessionName' failed to satisfy constraint: ...").
 */
import { AwsError } from './aws-error';

/** Collects constraint violations for one request. */
export class Violations {
  private readonly items: string[] = [];

  private add(value: unknown, field: string, constraint: string): void {
    const shown = value === null ? 'null' : `'${typeof value === 'string' ? value : JSON.stringify(value)}'`;
    this.items.push(`Value ${shown} at '${field}' failed to satisfy constraint: ${constraint}`);
  }

  /** String length within min..max. */
  length(value: string | undefined, field: string, min: number, max: number): void {
    if (value === undefined) return;
    const n = [...value].length;
    if (n < min) this.add(value, field, `Member must have length greater than or equal to ${min}`);
    else if (n > max) this.add(value, field, `Member must have length less than or equal to ${max}`);
  }

  /** The whole string matches `pattern` (given as AWS writes it in the model, e.g. `[\w+=,.@-]*`). */
  pattern(value: string | undefined, field: string, pattern: string, flags = ''): void {
    if (value === undefined) return;
    if (!new RegExp(`^(?:${pattern})$`, flags).test(value)) this.add(value, field, `Member must satisfy regular expression pattern: ${pattern}`);
  }

  /** Integer within min..max. */
  range(value: number | undefined, field: string, min: number, max: number): void {
    if (value === undefined) return;
    if (value < min) this.add(value, field, `Member must have value greater than or equal to ${min}`);
    else if (value > max) this.add(value, field, `Member must have value less than or equal to ${max}`);
  }

  /** A list of at most `max` members. */
  count(values: unknown[], field: string, max: number): void {
    if (values.length > max) this.add(values, field, `Member must have length less than or equal to ${max}`);
  }

  /** A required member that is absent. */
  missing(field: string): void {
    this.add(null, field, 'Member must not be null');
  }

  /** Throws the collected violations as one ValidationError (400); does nothing when there are none. */
  throwIfAny(): void {
    if (this.items.length === 0) return;
    const n = this.items.length;
    throw new AwsError(400, 'ValidationError', `${n} validation error${n === 1 ? '' : 's'} detected: ${this.items.join('; ')}`);
  }
}
