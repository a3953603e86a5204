/**
 * Reading AWS Query protocol parameters: a form-encoded body (or query string) of flat names, with lists
 * serialised as `Name.member.N` (scalars) or `Name.member.N.Field` (structures), N counting from 1.
 */
import { invalid } from './aws-error';

/** Parameters of one Query request, by their exact (case-sensitive) names. */
export class QueryParams {
  private readonly values = new Map<string, string>();

  constructor(body: string, query = '') {
    for (const source of [query, body]) for (const [k, v] of new URLSearchParams(source)) this.values.set(k, v);
  }

  get action(): string | undefined {
    return this.values.get('Action');
  }

  /** A scalar parameter, or undefined when absent. */
  get(name: string): string | undefined {
    return this.values.get(name);
  }

  /** A scalar parameter that must be present; AWS words its absence like a missing modelled member. */
  required(name: string, field: string): string {
    const v = this.values.get(name);
    if (v === undefined) throw invalid(`1 validation error detected: Value null at '${field}' failed to satisfy constraint: Member must not be null`);
    return v;
  }

  /** An integer parameter, undefined when absent; a non-integer is a ValidationError. */
  integer(name: string, field: string): number | undefined {
    const v = this.values.get(name);
    if (v === undefined) return undefined;
    if (!/^-?\d+$/.test(v)) throw invalid(`1 validation error detected: Value '${v}' at '${field}' failed to satisfy constraint: Member must be an integer`);
    return Number(v);
  }

  /** `Name.member.N` values in N order. */
  list(name: string): string[] {
    return this.indexes(name).map((i) => this.values.get(`${name}.member.${i}`) ?? '');
  }

  /** `Name.member.N.Field` structures in N order, each as field -> value. */
  structList(name: string): Array<Record<string, string>> {
    return this.indexes(name).map((i) => {
      const prefix = `${name}.member.${i}.`;
      const item: Record<string, string> = {};
      for (const [k, v] of this.values) if (k.startsWith(prefix)) item[k.slice(prefix.length)] = v;
      return item;
    });
  }

  /** Whether the list parameter was sent at all (an empty list is sent as `Name=`). */
  has(name: string): boolean {
    return this.values.has(name) || this.indexes(name).length > 0;
  }

  private indexes(name: string): number[] {
    const found = new Set<number>();
    const prefix = `${name}.member.`;
    for (const k of this.values.keys()) {
      if (!k.startsWith(prefix)) continue;
      const n = Number(k.slice(prefix.length).split('.')[0]);
      if (Number.isInteger(n) && n > 0) found.add(n);
    }
    return [...found].sort((a, b) => a - b);
  }
}
