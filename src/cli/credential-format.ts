import type { ContainerCredentials, VendCredentials, VendResponse } from '../client/types';

export const FORMATS = ['process', 'env', 'json'] as const;
export type CredentialFormat = (typeof FORMATS)[number];

/** The `credential_process` output: Version 1, with Expiration so tools run the process again before expiry. */
export function formatProcess(c: VendCredentials): string {
  return `${JSON.stringify({ Version: 1, AccessKeyId: c.accessKeyId, SecretAccessKey: c.secretAccessKey, SessionToken: c.sessionToken, Expiration: c.expiration })}\n`;
}

/** `export NAME=value` lines for `eval "$(sts-vend credentials --format env ...)"`, each value shell-quoted. */
export function formatEnv(c: VendCredentials): string {
  const vars: Array<[string, string]> = [
    ['AWS_ACCESS_KEY_ID', c.accessKeyId],
    ['AWS_SECRET_ACCESS_KEY', c.secretAccessKey],
    ['AWS_SESSION_TOKEN', c.sessionToken],
    // Read by the SDKs' environment provider, so they know when these run out.
    ['AWS_CREDENTIAL_EXPIRATION', c.expiration],
  ];
  return vars.map(([k, v]) => `export ${k}=${shellQuote(v)}\n`).join('');
}

/** The vend response as the service sent it (pretty-printed). */
export function formatJson(res: VendResponse): string {
  return `${JSON.stringify(res, null, 2)}\n`;
}

export function formatCredentials(format: CredentialFormat, res: VendResponse): string {
  if (format === 'process') return formatProcess(res.credentials);
  if (format === 'env') return formatEnv(res.credentials);
  return formatJson(res);
}

/** POSIX shell quoting: bare when only safe characters, else single quotes with `'` written as `'\''`. */
export function shellQuote(value: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The container shape converted to the vend response's credential fields. */
export function fromContainer(c: ContainerCredentials): VendCredentials {
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.Token, expiration: c.Expiration };
}
