/* eslint-disable @typescript-eslint/no-require-imports -- the server half is loaded on first use, see below */
/**
 * The package entry. For agents and MCP servers: `fromStsVend` (an AWS SDK v3 credential provider) and the
 * typed HTTP client. For embedding the service in another process: `createApp`, `buildDeps`, `closeDeps` and
 * `loadConfig`/`parseConfig`, the same pieces `main.ts` wires.
 */
import type * as App from './app';
import type * as Config from './config';
import type * as Deps from './deps';

export { fromStsVend, type FromStsVendOptions } from './client/from-sts-vend';
export { StsVendClient, type StsVendClientOptions, type TokenSource } from './client/sts-vend-client';
export { StsVendError, isStsVendError } from './client/errors';
export type * from './client/types';

export type { AppDeps, DepsOverrides } from './deps';
export type { Config } from './config';

// The server pulls in express, ioredis, ajv and the STS client (about 0.7 s to load); an agent that imports
// only fromStsVend should not pay for that, so these load the server modules when first called.
/** Builds the HTTP app from its dependencies (see app.ts). */
export const createApp: typeof App.createApp = (deps) => (require('./app') as typeof App).createApp(deps);
/** Builds the real dependencies (see deps.ts). */
export const buildDeps: typeof Deps.buildDeps = (config, overrides) => (require('./deps') as typeof Deps).buildDeps(config, overrides);
/** Releases the dependencies' connections (see deps.ts). */
export const closeDeps: typeof Deps.closeDeps = (deps) => (require('./deps') as typeof Deps).closeDeps(deps);
/** Reads and validates the configuration from the environment (see config.ts). */
export const loadConfig: typeof Config.loadConfig = (env) => (require('./config') as typeof Config).loadConfig(env);
/** Validates a configuration object (see config.ts). */
export const parseConfig: typeof Config.parseConfig = (raw, env, baseDir) => (require('./config') as typeof Config).parseConfig(raw, env, baseDir);
