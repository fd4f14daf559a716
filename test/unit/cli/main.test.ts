import { createServer } from 'node:net';
import { explain, main } from '../../../lib/cli/main';
import { AwsCallError } from '../../../lib/errors';
import { awsError } from '../aws/helpers';

function streams() {
  let out = '';
  let err = '';
  return { io: { stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (err += t), isTTY: false } }, out: () => out, err: () => err };
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

it('--help prints the usage on stdout and exits 0', async () => {
  const s = streams();
  expect(await main(['--help'], s.io)).toBe(0);
  expect(s.out()).toMatch(/^usage: pydio-autoscaler <command> --stage <stage>/);
});

it('a bad command line exits 2 with one line on stderr and nothing on stdout', async () => {
  const s = streams();
  expect(await main(['status'], s.io)).toBe(2);
  expect(s.err()).toBe('pydio-autoscaler: --stage is required: the stage you deployed (sls deploy --stage <stage>), e.g. --stage prod\n');
  expect(s.out()).toBe('');
});

it('an endpoint that does not answer exits 1 naming it', async () => {
  // The SDK reads the operator's credentials from the environment, as it would in a shell.
  const saved = { AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY };
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  try {
    const s = streams();
    const port = await closedPort();
    const code = await main(['status', '--stage', 'prod', '--region', 'eu-west-1', '--endpoint-url', `http://127.0.0.1:${port}`], s.io);
    expect(code).toBe(1);
    expect(s.err()).toContain(`pydio-autoscaler: cannot reach the Invoke endpoint in eu-west-1 at http://127.0.0.1:${port} (ECONNREFUSED)`);
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
});

describe('explain', () => {
  it.each<[string, unknown, string]>([
    ['no credentials', new AwsCallError('Invoke', 'Could not load credentials from any providers', { cause: Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }) }), 'no AWS credentials found: configure them as for the AWS CLI'],
    ['access denied', new AwsCallError('Invoke', 'x', { cause: awsError('AccessDeniedException', 'User: arn:aws:iam::123456789012:user/ops is not authorized to perform: lambda:InvokeFunction') }), 'AWS refused Invoke in eu-west-1 with these credentials (AccessDeniedException): User: arn:aws:iam::123456789012:user/ops is not authorized'],
    ['another service error', new AwsCallError('FilterLogEvents', 'x', { cause: awsError('ThrottlingException', 'Rate exceeded') }), 'FilterLogEvents failed in eu-west-1: ThrottlingException: Rate exceeded'],
  ])('%s', (_what, error, sentence) => {
    expect(explain(error, 'eu-west-1')).toContain(sentence);
  });
});
