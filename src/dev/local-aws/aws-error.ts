/**
 * An error the emulator answers the way AWS would: a stable AWS error code, its HTTP status, and whether the
 * fault is the caller's (`Sender`) or the service's (`Receiver`), which the Query protocol puts in `<Type>`.
 */
export class AwsError extends Error {
  readonly code: string;
  readonly status: number;
  readonly type: 'Sender' | 'Receiver';

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'AwsError';
    this.code = code;
    this.status = status;
    this.type = status >= 500 ? 'Receiver' : 'Sender';
  }
}

/** A `ValidationError` whose message is free text (for rules AWS words in its own way). */
export function invalid(message: string): AwsError {
  return new AwsError(400, 'ValidationError', message);
}

/** `AccessDenied` worded like AWS: `User: <arn> is not authorized to perform: <action> on resource: <arn>`. */
export function accessDenied(principalArn: string, action: string, resource: string, why = ''): AwsError {
  const suffix = why ? ` ${why}` : '';
  return new AwsError(403, 'AccessDenied', `User: ${principalArn} is not authorized to perform: ${action} on resource: ${resource}${suffix}`);
}

/** Whether a thrown value is an `AwsError`. */
export const isAwsError = (err: unknown): err is AwsError => err instanceof AwsError;
