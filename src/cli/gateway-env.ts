import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import type { GatewayVendResponse } from '../client/types';
import { addConnectionOptions, connect, type ConnectionOptions } from './connection';
import { shellQuote } from './credential-format';
import { CliError, type CliContext } from './context';
import { addVendOptions, vendRequest, type VendOptions } from './vend-options';

/**
 * The environment of a process that reaches AWS only through the gateway: the endpoint, the gateway key pair
 * and the region, with every variable that could make an SDK pick other credentials removed. The SDKs' own
 * defaults stay (checksummed aws-chunked uploads included: the gateway verifies and re-signs them). Debian's
 * AWS CLI 2.9 and boto3 1.26 ignore AWS_ENDPOINT_URL:
 * give them `--endpoint-url` / `endpoint_url`, or use the profile output.
 */
export function gatewayEnv(base: NodeJS.ProcessEnv, g: GatewayVendResponse['gateway']): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const name of Object.keys(env)) {
    if (/^AWS_(SESSION_TOKEN|CREDENTIAL_EXPIRATION|PROFILE|DEFAULT_PROFILE|CONTAINER_.*|WEB_IDENTITY_TOKEN_FILE|ROLE_ARN|ENDPOINT_URL_.*)$/.test(name)) delete env[name];
  }
  env.AWS_SHARED_CREDENTIALS_FILE = os.devNull;
  Object.assign(env, gatewayVariables(g));
  return env;
}

function gatewayVariables(g: GatewayVendResponse['gateway']): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: g.endpointUrl,
    AWS_ACCESS_KEY_ID: g.accessKeyId,
    AWS_SECRET_ACCESS_KEY: g.secretAccessKey,
    AWS_REGION: g.region,
    AWS_DEFAULT_REGION: g.region,
  };
}

/**
 * Proxy mode: the process reaches AWS by its own host names through the gateway's proxy (HTTPS_PROXY, every
 * spelling clients read) and trusts the gateway CA for them (`caFile`, the PEM of `caBundle`): AWS_CA_BUNDLE for
 * the AWS CLI and boto3, NODE_EXTRA_CA_CERTS for Node (which adds it to its own roots). No endpoint URL, so
 * clients that ignore AWS_ENDPOINT_URL work too; a NO_PROXY from the parent would open a way around the gateway.
 */
export function gatewayProxyEnv(base: NodeJS.ProcessEnv, g: GatewayVendResponse['gateway'], caFile: string): NodeJS.ProcessEnv {
  const env = gatewayEnv(base, g);
  for (const name of Object.keys(env)) if (/^(AWS_ENDPOINT_URL|no_proxy|NO_PROXY)$/.test(name)) delete env[name];
  Object.assign(env, proxyVariables(g, caFile));
  return env;
}

function proxyVariables(g: GatewayVendResponse['gateway'], caFile: string): Record<string, string> {
  const url = requireProxy(g).proxyUrl;
  return {
    HTTPS_PROXY: url,
    https_proxy: url,
    HTTP_PROXY: url,
    http_proxy: url,
    AWS_CA_BUNDLE: caFile,
    NODE_EXTRA_CA_CERTS: caFile,
    // Node 24+ reads HTTPS_PROXY for its own https module only when told to.
    NODE_USE_ENV_PROXY: '1',
  };
}

/** The gateway's proxy URL and CA, or a CliError when the service does not run proxy mode. */
export function requireProxy(g: GatewayVendResponse['gateway']): { proxyUrl: string; caBundle: string } {
  if (!g.proxyUrl || !g.caBundle) throw new CliError('proxy_unavailable', 'the service answered no gateway.proxyUrl: proxy mode (gateway.proxy.enabled) is off there');
  return { proxyUrl: g.proxyUrl, caBundle: g.caBundle };
}

/** Writes the gateway CA certificate where only this user can read or replace it; answers the file. */
export function writeCaBundle(g: GatewayVendResponse['gateway'], file?: string): string {
  const { caBundle } = requireProxy(g);
  const target = file ?? path.join(mkdtempSync(path.join(os.tmpdir(), 'sts-vend-ca-')), 'gateway-ca.pem');
  writeFileSync(target, caBundle, { mode: 0o600 });
  return target;
}

/** `export` lines for proxy mode: the proxy variables, the gateway key pair and region, and no endpoint URL. */
export function formatGatewayProxyEnv(g: GatewayVendResponse['gateway'], caFile: string): string {
  const { AWS_ENDPOINT_URL: _endpoint, ...rest } = gatewayVariables(g);
  return [...Object.entries(rest), ...Object.entries(proxyVariables(g, caFile))].map(([k, v]) => `export ${k}=${shellQuote(v)}\n`).join('') + 'unset AWS_ENDPOINT_URL NO_PROXY no_proxy\n';
}

/** A profile for proxy mode: `ca_bundle` names the CA file; the proxy itself is HTTPS_PROXY (profiles have no proxy setting). */
export function formatGatewayProxyProfile(name: string, g: GatewayVendResponse['gateway'], caFile: string): string {
  return [
    `# proxy mode: run with HTTPS_PROXY=${requireProxy(g).proxyUrl}`,
    `[profile ${name}]`,
    `aws_access_key_id = ${g.accessKeyId}`,
    `aws_secret_access_key = ${g.secretAccessKey}`,
    `region = ${g.region}`,
    `ca_bundle = ${caFile}`,
    'request_checksum_calculation = when_required',
    '',
  ].join('\n');
}

/** `export` lines for `eval "$(sts-vend gateway ...)"`. */
export function formatGatewayEnv(g: GatewayVendResponse['gateway']): string {
  return Object.entries(gatewayVariables(g))
    .map(([k, v]) => `export ${k}=${shellQuote(v)}\n`)
    .join('');
}

/** A profile section for ~/.aws/config: clients that ignore AWS_ENDPOINT_URL still honour endpoint_url here (CLI 2.13+, boto3 1.28+). */
export function formatGatewayProfile(name: string, g: GatewayVendResponse['gateway']): string {
  return [
    `[profile ${name}]`,
    `endpoint_url = ${g.endpointUrl}`,
    `aws_access_key_id = ${g.accessKeyId}`,
    `aws_secret_access_key = ${g.secretAccessKey}`,
    `region = ${g.region}`,
    '',
  ].join('\n');
}

interface GatewayOptions extends VendOptions, ConnectionOptions {
  format: 'env' | 'profile' | 'json';
  profile: string;
  proxy?: boolean;
  caFile?: string;
}

/** `sts-vend gateway`: vend a gateway session and print its credentials as env lines, a profile or JSON. */
export function registerGateway(cmd: Command, ctx: CliContext): void {
  addConnectionOptions(addVendOptions(cmd.description('vend a gateway session: the agent gets gateway credentials, never an AWS credential')))
    .addOption(new Option('--format <format>', 'env: export lines; profile: an ~/.aws/config section; json: the service answer').choices(['env', 'profile', 'json']).default('env'))
    .option('--profile <name>', 'profile name for --format profile', 'sts-vend-gateway')
    .option('--proxy', 'proxy mode: HTTPS_PROXY and the gateway CA instead of an endpoint URL (the CA is written to --ca-file)')
    .option('--ca-file <path>', 'with --proxy: where to write the gateway CA certificate (default: a new private temporary file)')
    .action(async (opts: GatewayOptions) => {
      const { client } = await connect(opts, ctx);
      const res = await client.vendGateway(vendRequest(opts, 'gateway'));
      if (opts.format === 'json') return ctx.out(`${JSON.stringify(res, null, 2)}\n`);
      if (!opts.proxy) return ctx.out(opts.format === 'profile' ? formatGatewayProfile(opts.profile, res.gateway) : formatGatewayEnv(res.gateway));
      const caFile = writeCaBundle(res.gateway, opts.caFile);
      ctx.out(opts.format === 'profile' ? formatGatewayProxyProfile(opts.profile, res.gateway, caFile) : formatGatewayProxyEnv(res.gateway, caFile));
    });
}
