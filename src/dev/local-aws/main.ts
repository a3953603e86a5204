/**
 * `npm run local-aws -- --port 4599 --state policies/local-aws-state.yaml`: the emulator on its own, for the AWS
 * CLI or any SDK pointed at it with AWS_ENDPOINT_URL. Prints the endpoint and the environment to use.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadLocalAwsState, startLocalAws } from './index';

const USAGE = `usage: npm run local-aws -- [--port 4599] [--host 127.0.0.1] [--state policies/local-aws-state.yaml] [--iam-propagation-delay-ms 0]`;
const DEFAULT_STATE = path.resolve(__dirname, '../../../policies/local-aws-state.yaml');

function fail(message: string): never {
  console.error(`local-aws: ${message}\n${USAGE}`);
  process.exit(2);
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string', default: '4599' },
        host: { type: 'string', default: '127.0.0.1' },
        state: { type: 'string', default: DEFAULT_STATE },
        'iam-propagation-delay-ms': { type: 'string', default: '0' },
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
  const delay = Number(values['iam-propagation-delay-ms']);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be 0..65535, got ${values.port}`);
  if (!Number.isFinite(delay) || delay < 0) fail(`--iam-propagation-delay-ms must be >= 0, got ${values['iam-propagation-delay-ms']}`);

  let state;
  try {
    state = loadLocalAwsState(values.state);
  } catch (err) {
    fail((err as Error).message);
  }
  const aws = await startLocalAws({ state, port, host: values.host, iamPropagationDelayMs: delay });
  const user = state.credentials[0];
  console.log(
    [
      `local AWS (STS, IAM, S3) listening on ${aws.url}`,
      `  account ${state.accountId}, region ${state.region ?? 'us-east-1'}, state ${values.state}`,
      '',
      'Point the AWS CLI or any SDK at it:',
      `  export AWS_ENDPOINT_URL=${aws.url}`,
      // SDKs read AWS_REGION; the AWS CLI v1 reads AWS_DEFAULT_REGION.
      `  export AWS_REGION=${state.region ?? 'us-east-1'} AWS_DEFAULT_REGION=${state.region ?? 'us-east-1'}`,
      ...(user ? [`  export AWS_ACCESS_KEY_ID=${user.accessKeyId}`, `  export AWS_SECRET_ACCESS_KEY=${user.secretAccessKey}`] : []),
      '  aws sts get-caller-identity',
      '',
      `Faults: curl -X PUT ${aws.url}/_local-aws/faults -d '{"stsThrottle":{"burst":3}}'`,
    ].join('\n'),
  );
  const shutdown = () => {
    aws.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((err: unknown) => {
  console.error('local-aws: failed to start', err);
  process.exit(1);
});
