import os from 'node:os';
import type { Command } from 'commander';
import { Option } from 'commander';
import type { GatewayVendResponse } from '../client/types';
import { addConnectionOptions, connect, type ConnectionOptions } from './connection';
import { shellQuote } from './credential-format';
import type { CliContext } from './context';
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
}

/** `sts-vend gateway`: vend a gateway session and print its credentials as env lines, a profile or JSON. */
export function registerGateway(cmd: Command, ctx: CliContext): void {
  addConnectionOptions(addVendOptions(cmd.description('vend a gateway session: the agent gets gateway credentials, never an AWS credential')))
    .addOption(new Option('--format <format>', 'env: export lines; profile: an ~/.aws/config section; json: the service answer').choices(['env', 'profile', 'json']).default('env'))
    .option('--profile <name>', 'profile name for --format profile', 'sts-vend-gateway')
    .action(async (opts: GatewayOptions) => {
      const { client } = await connect(opts, ctx);
      const res = await client.vendGateway(vendRequest(opts, 'gateway'));
      if (opts.format === 'json') ctx.out(`${JSON.stringify(res, null, 2)}\n`);
      else ctx.out(opts.format === 'profile' ? formatGatewayProfile(opts.profile, res.gateway) : formatGatewayEnv(res.gateway));
    });
}
