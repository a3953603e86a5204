import http from 'node:http';
import https from 'node:https';
import { errorFromResponse, StsVendError } from './errors';
import type {
  Approval,
  ApprovalWait,
  ContainerCredentials,
  GatewayVendResponse,
  RevocationPage,
  RevokeRequest,
  RevokeResult,
  Revocation,
  SessionFilters,
  SessionPage,
  VendRequest,
  VendResponse,
} from './types';

/** The OIDC ID token, or a function that returns a fresh one (called before every authenticated request). */
export type TokenSource = string | (() => Promise<string>);

export interface StsVendClientOptions {
  /** Service base URL, e.g. `https://sts-vend.example.com` (a path prefix is kept). */
  url: string;
  /** Needed for every call but `credentials`, which authenticates with the session's own token. */
  token?: TokenSource;
}

// credential_process and the container provider block the caller's SDK while we wait; fail rather than hang.
const TIMEOUT_MS = 30_000;

/** A typed client for the sts-vend HTTP API; every failure is a StsVendError. */
export class StsVendClient {
  private readonly base: URL;
  private readonly token?: TokenSource;

  constructor(opts: StsVendClientOptions) {
    this.base = new URL(opts.url.endsWith('/') ? opts.url : `${opts.url}/`);
    this.token = opts.token;
  }

  /**
   * POST /v1/vend. A template that requires approval answers 202: with `wait`, this polls the request until an
   * approver decides and then collects the credentials (with a fresh token from the token source); without it,
   * that is an `approval_required` error naming the request.
   */
  async vend(body: VendRequest, wait?: ApprovalWait): Promise<VendResponse> {
    const first = await this.call<VendResponse | Approval>('POST', 'v1/vend', body);
    if (first.status === 202) {
      const approval = first.body as Approval;
      if (!wait) throw new StsVendError(202, 'approval_required', `template ${approval.template} requires approval: request ${approval.approvalId} is waiting for ${approval.approverGroups.join(', ')}`);
      return this.checked(await this.waitAndCollect(approval, wait));
    }
    return this.checked(first as { status: number; body: VendResponse });
  }

  /** Polls an approval request until it is decided or expires; collects it once approved. */
  async waitAndCollect(approval: Approval, wait: ApprovalWait): Promise<{ status: number; body: VendResponse }> {
    const started = Date.now();
    let current = approval;
    wait.onProgress(current, 0);
    for (;;) {
      if (current.state === 'approved') return this.call<VendResponse>('POST', `v1/approvals/${encodeURIComponent(current.approvalId)}/collect`);
      if (current.state !== 'pending') {
        const by = current.decision ? ` by ${current.decision.byClaim}: ${current.decision.reason}` : '';
        throw new StsVendError(409, `approval_${current.state}`, `approval ${current.approvalId} was ${current.state}${by}`);
      }
      await new Promise((r) => setTimeout(r, wait.pollMs ?? 2000));
      current = await this.getApproval(current.approvalId);
      wait.onProgress(current, Date.now() - started);
    }
  }

  /** GET /v1/approvals (what the caller asked for or may decide). */
  async listApprovals(state?: string): Promise<Approval[]> {
    return (await this.call<{ approvals: Approval[] }>('GET', `v1/approvals${query({ state })}`)).body.approvals;
  }

  /** GET /v1/approvals/{id}. */
  async getApproval(id: string): Promise<Approval> {
    return (await this.call<Approval>('GET', `v1/approvals/${encodeURIComponent(id)}`)).body;
  }

  /** POST /v1/approvals/{id}/approve or /deny, with the approver's reason. */
  async decide(id: string, outcome: 'approve' | 'deny', reason: string): Promise<Approval> {
    return (await this.call<Approval>('POST', `v1/approvals/${encodeURIComponent(id)}/${outcome}`, { reason })).body;
  }

  private checked(res: { status: number; body: VendResponse }): VendResponse {
    const c = res.body.credentials;
    if (!c || typeof c.accessKeyId !== 'string' || typeof c.secretAccessKey !== 'string' || typeof c.expiration !== 'string') {
      throw new StsVendError(res.status, 'bad_response', 'the vend answer has no credentials');
    }
    return res.body;
  }

  /** POST /v1/vend with `delivery: "gateway"`: gateway credentials, no AWS credential. */
  async vendGateway(body: Omit<VendRequest, 'delivery'>): Promise<GatewayVendResponse> {
    const res = await this.call<GatewayVendResponse>('POST', 'v1/vend', { ...body, delivery: 'gateway' });
    const g = res.body.gateway;
    if (!g || ![g.endpointUrl, g.accessKeyId, g.secretAccessKey, g.region].every((v) => typeof v === 'string' && v !== '')) {
      throw new StsVendError(res.status, 'bad_response', 'the vend answer has no gateway credentials; the service may predate gateway delivery');
    }
    return res.body;
  }

  /** GET a session's container-credentials URL with its raw authorization token (no scheme), as the SDK does. */
  async credentials(containerUrl: string, authorizationToken: string): Promise<ContainerCredentials> {
    const res = await this.send<ContainerCredentials>(new URL(containerUrl), { method: 'GET', headers: { Authorization: authorizationToken } });
    const b = res.body;
    if (![b.AccessKeyId, b.SecretAccessKey, b.Token, b.Expiration].every((v) => typeof v === 'string')) {
      throw new StsVendError(res.status, 'bad_response', 'the container-credentials answer is not the documented shape');
    }
    return b;
  }

  /**
   * GET the session's checkpoint (`<container URL>/checkpoint`): the kill-switch checks of a refresh, no
   * credential. Resolves when the session may keep using its credential; a refusal throws with its `Code`.
   */
  async checkpoint(containerUrl: string, authorizationToken: string): Promise<{ SessionId: string; SessionExpiration: string }> {
    const res = await this.send<{ SessionId: string; SessionExpiration: string }>(new URL(`${containerUrl}/checkpoint`), { method: 'GET', headers: { Authorization: authorizationToken } });
    if (typeof res.body.SessionId !== 'string' || typeof res.body.SessionExpiration !== 'string') {
      throw new StsVendError(res.status, 'bad_response', 'the checkpoint answer is not the documented shape');
    }
    return res.body;
  }

  /** DELETE the session's container URL: ends the session with its own token (no OIDC token needed). */
  async endContainerSession(containerUrl: string, authorizationToken: string): Promise<{ pending: boolean }> {
    const res = await this.send<{ Pending?: unknown }>(new URL(containerUrl), { method: 'DELETE', headers: { Authorization: authorizationToken } });
    return { pending: res.body.Pending === true };
  }

  /** GET /v1/sessions, one page (operators). */
  async listSessions(filters: SessionFilters = {}): Promise<SessionPage> {
    return (await this.call<SessionPage>('GET', `v1/sessions${query(filters)}`)).body;
  }

  /** POST /v1/revoke (operators). */
  async revoke(body: RevokeRequest): Promise<RevokeResult> {
    const res = await this.call<Revocation>('POST', 'v1/revoke', body);
    return { revocation: res.body, pending: res.status === 202 };
  }

  /** DELETE /v1/sessions/{id}: the owner (or an operator) ends a session early. */
  async endSession(id: string): Promise<RevokeResult> {
    const res = await this.call<Revocation>('DELETE', `v1/sessions/${encodeURIComponent(id)}`);
    return { revocation: res.body, pending: res.status === 202 };
  }

  /** GET /v1/revocations, newest first (operators). */
  async listRevocations(page: { cursor?: string; limit?: number } = {}): Promise<RevocationPage> {
    return (await this.call<RevocationPage>('GET', `v1/revocations${query(page)}`)).body;
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const headers: Record<string, string> = { Authorization: `Bearer ${await this.bearer()}`, Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    return this.send<T>(new URL(path, this.base), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  }

  private async bearer(): Promise<string> {
    const token = typeof this.token === 'function' ? await this.token() : this.token;
    if (!token) throw new StsVendError(0, 'missing_token', 'no OIDC token was given');
    return token;
  }

  /**
   * One request over node:http(s) rather than fetch: credential_process starts a process for every AWS call, and
   * loading fetch's HTTP stack costs each of them about 0.1 s.
   */
  private send<T>(url: URL, init: { method: string; headers: Record<string, string>; body?: string }): Promise<{ status: number; body: T }> {
    return new Promise((resolve, reject) => {
      const unreachable = (err: NodeJS.ErrnoException): void =>
        // Only the origin, and the cause's code: no header or body of the request can reach the message.
        reject(new StsVendError(0, 'unreachable', `cannot reach ${url.origin} (${err.code ?? err.message})`, { cause: err }));
      const headers = init.body === undefined ? init.headers : { ...init.headers, 'Content-Length': String(Buffer.byteLength(init.body)) };
      const req = (url.protocol === 'https:' ? https : http).request(url, { method: init.method, headers, timeout: TIMEOUT_MS }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', unreachable);
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const text = Buffer.concat(chunks).toString('utf8');
          const header = (name: string): string | null => {
            const v = res.headers[name.toLowerCase()];
            return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
          };
          if (status < 200 || status > 299) return reject(errorFromResponse(status, { get: header }, text));
          try {
            resolve({ status, body: JSON.parse(text) as T });
          } catch {
            reject(new StsVendError(status, 'bad_response', `the service answered HTTP ${status} with a body that is not JSON`));
          }
        });
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
      req.on('error', unreachable);
      req.end(init.body);
    });
  }
}

function query(params: object): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
