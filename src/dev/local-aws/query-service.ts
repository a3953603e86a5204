/**
 * The AWS Query protocol front of STS and IAM: a form-encoded POST (or GET with a query string) naming an
 * Action, answered with `<{Action}Response>` XML or an `<ErrorResponse>`, and the request id in
 * `x-amzn-RequestId` as the SDK reads it.
 */
import type { ServerResponse } from 'node:http';
import type { Caller } from './authenticate';
import { AwsError, isAwsError } from './aws-error';
import type { FaultInjector } from './faults';
import { handleIam } from './iam';
import { QueryParams } from './query-params';
import { handleSts } from './sts';
import type { World } from './world';
import { IAM_XMLNS, queryErrorXml, queryResponseXml, STS_XMLNS, type XmlObject } from './xml';

/** Everything an action handler gets. */
export interface QueryRequest {
  action: string;
  params: QueryParams;
  world: World;
  caller: Caller;
  now: Date;
  sourceIp: string;
  faults: FaultInjector;
}

const SERVICES: Record<string, { xmlns: string; handle: (q: QueryRequest) => XmlObject | undefined }> = {
  sts: { xmlns: STS_XMLNS, handle: handleSts },
  iam: { xmlns: IAM_XMLNS, handle: handleIam },
};

/** Whether the emulator speaks the Query protocol for this SigV4 service name. */
export const isQueryService = (service: string): boolean => service in SERVICES;

/** Writes a Query-protocol response (STS/IAM namespace) with the given status and XML. */
export function writeQuery(res: ServerResponse, status: number, xml: string, requestId: string): void {
  res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
  res.end(xml);
}

/** Writes an AWS error the way `service`'s Query protocol does. */
export function writeQueryError(res: ServerResponse, service: string, err: AwsError, requestId: string): void {
  writeQuery(res, err.status, queryErrorXml(err, SERVICES[service]?.xmlns ?? STS_XMLNS, requestId), requestId);
}

/** Serves one authenticated STS or IAM request. */
export function serveQuery(
  res: ServerResponse,
  input: { service: string; url: string; body: Buffer; requestId: string } & Omit<QueryRequest, 'action' | 'params'>,
): void {
  const { service, requestId } = input;
  const svc = SERVICES[service];
  try {
    if (!svc) throw new AwsError(400, 'InvalidAction', `Service ${service} is not served here`);
    const q = input.url.indexOf('?');
    const params = new QueryParams(input.body.toString('utf8'), q < 0 ? '' : input.url.slice(q + 1));
    const action = params.action;
    if (!action) throw new AwsError(400, 'MissingAction', 'Missing Action');
    const result = svc.handle({ ...input, action, params });
    writeQuery(res, 200, queryResponseXml(action, svc.xmlns, result, requestId), requestId);
  } catch (err) {
    const awsErr = isAwsError(err) ? err : new AwsError(500, 'InternalFailure', 'The request processing has failed because of an unknown error.');
    if (!isAwsError(err)) console.error('local-aws: internal failure', err);
    writeQueryError(res, service, awsErr, requestId);
  }
}
