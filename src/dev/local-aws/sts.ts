/** The STS actions the emulator serves, behind the Query protocol. */
import { AwsError } from './aws-error';
import type { QueryRequest } from './query-service';
import { assumeRole, getCallerIdentity } from './sts-assume-role';
import type { XmlObject } from './xml';

/** Runs one STS action; returns the content of `<{Action}Result>`. */
export function handleSts(q: QueryRequest): XmlObject {
  // docs/aws.md: STS throttling surfaces as `Throttling` ("Rate exceeded", 400).
  if (q.faults.throttleSts()) throw new AwsError(400, 'Throttling', 'Rate exceeded');
  switch (q.action) {
    case 'AssumeRole':
      return assumeRole(q.world, q.caller, q.params, q.now, q.sourceIp);
    case 'GetCallerIdentity':
      return getCallerIdentity(q.caller);
    default:
      throw new AwsError(400, 'InvalidAction', `Could not find operation ${q.action} for version 2011-06-15`);
  }
}
