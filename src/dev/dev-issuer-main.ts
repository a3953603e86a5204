/**
 * `node dist/dev/dev-issuer-main.js --port 4600`: one dev OIDC issuer on its own, as the compose dev profile runs
 * it. Prints its issuer URL (what the service config pins) and how to mint a token. Development only.
 */
import { parseArgs } from 'node:util';
import { isLoopbackHost, startDevIssuer } from './dev-issuer';

const USAGE = 'usage: node dist/dev/dev-issuer-main.js [--port 4600] [--host 127.0.0.1] [--public-url http://dev-issuer:4600] [--allow-mint]';

function fail(message: string): never {
  console.error(`dev-issuer: ${message}\n${USAGE}`);
  process.exit(2);
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string', default: '4600' },
        host: { type: 'string', default: '127.0.0.1' },
        // In a container the issuer is reached by its service name, not by the address it binds.
        'public-url': { type: 'string' },
        // The mint endpoint is loopback-only unless asked for: in compose the issuer binds 0.0.0.0 in its container.
        'allow-mint': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    fail((err as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be 0..65535, got ${values.port}`);
  const publicUrl = values['public-url'];
  if (publicUrl !== undefined && !/^https?:\/\/[^/]+\/?$/.test(publicUrl)) fail(`--public-url must be an http(s) origin, got ${publicUrl}`);
  // A public URL names a fixed port mapping; with a random port nobody could reach it there.
  if (publicUrl !== undefined && port === 0) fail('--public-url needs a fixed --port');

  const issuer = await startDevIssuer({ port, host: values.host, publicUrl, allowMint: values['allow-mint'] });
  const boundPort = port || Number(new URL(issuer.issuer).port);
  const local = `http://127.0.0.1:${boundPort}`;
  if (values['allow-mint'] && !isLoopbackHost(values.host)) {
    console.error(`dev-issuer: WARNING: token minting is open on ${values.host}; anyone who can reach port ${boundPort} can mint tokens (development only)`);
  }
  console.log(
    [
      `dev OIDC issuer (development only) listening on ${values.host}:${boundPort}`,
      `  issuer  ${issuer.issuer}`,
      `  jwks    ${issuer.jwksUri}`,
      issuer.tokenUrl
        ? `  mint    curl -s -X POST ${local}/token -H 'Accept: text/plain' -H 'Content-Type: application/json' -d '{"email":"alice@example.com","groups":["backend"],"project":"backend-api"}'`
        : '  mint    disabled: bound to a non-loopback host (--allow-mint enables it, development only)',
    ].join('\n'),
  );
  const shutdown = (): void => {
    issuer.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((err: unknown) => {
  console.error(`dev-issuer: failed to start: ${(err as Error)?.message ?? String(err)}`);
  process.exit(1);
});
