/**
 * The operator's tools against one sandbox, as child processes: Debian's AWS
 * CLI (`aws lambda invoke --endpoint-url ...`) and the operator CLI
 * (`bin/pydio-autoscaler.js`) call the deployed functions through the front's
 * Lambda Invoke API, which runs the real bundled handlers; `decisions` reads
 * the functions' own lines back from CloudWatch Logs. Its own name (pascli),
 * network (10.99.0.0/16) and state dir; `down` always runs in afterAll.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { REPO_DIR } from '../../sandbox/hosts';
import { describeWithSandbox, leftovers } from './prerequisites';

jest.setTimeout(300_000);

const NAME = 'pascli';
const STAGE = 'pasbox';
const stateDir = path.join(tmpdir(), `pas-${NAME}-e2e-${process.pid}`);
const TSX = path.join(REPO_DIR, 'node_modules', '.bin', 'tsx');
const SANDBOX_CLI = path.join(REPO_DIR, 'test', 'sandbox', 'cli.ts');
const OPERATOR_CLI = path.join(REPO_DIR, 'bin', 'pydio-autoscaler.js');
const SANDBOX_OPTIONS = ['--name', NAME, '--octet', '99', '--lb-port', '0', '--state-dir', stateDir];
/** Debian's awscli (v2), installed by test/setup.sh. */
const AWS_CLI = '/usr/bin/aws';

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const work = mkdtempSync(path.join(tmpdir(), 'pascli-work-'));
/** What an operator's shell would hold: credentials and nothing of this test's environment. */
const OPERATOR_ENV = { PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`, HOME: work, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_PAGER: '' };

function run(file: string, args: readonly string[], env?: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, [...args], { cwd: REPO_DIR, timeout: timeoutMs, maxBuffer: 10 * 1024 * 1024, ...(env ? { env } : {}) }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

const sandbox = (args: readonly string[], timeoutMs?: number) => run(TSX, [SANDBOX_CLI, ...args, ...SANDBOX_OPTIONS], undefined, timeoutMs);

let endpoint = '';
const aws = (args: readonly string[]) => run(AWS_CLI, [...args, '--endpoint-url', endpoint, '--region', 'eu-west-1'], OPERATOR_ENV);
const operator = (args: readonly string[]) => run(process.execPath, [OPERATOR_CLI, ...args, '--stage', STAGE, '--region', 'eu-west-1', '--endpoint-url', endpoint], OPERATOR_ENV);

/**
 * A storage dry run reads the Gluster status synchronously, for at most STORAGE_SYNC_STATUS_SECONDS; on
 * this busy 2-core machine the document can miss that bound, and the function refuses saying so and
 * to retry: the test retries as an operator would (3 times at most), any other refusal is kept.
 */
async function retriedWhileStatusLate(attempt: () => Promise<Run>): Promise<Run> {
  let r = await attempt();
  for (let i = 1; i < 3 && /did not arrive within \d+s; retry/.test(r.stdout); i += 1) r = await attempt();
  return r;
}

async function invokeWithAwsCli(fn: string, payload: string): Promise<{ meta: Record<string, unknown>; answer: unknown; run: Run }> {
  const outfile = path.join(work, `${fn}.json`);
  rmSync(outfile, { force: true });
  const r = await aws(['lambda', 'invoke', '--function-name', `pydio-autoscaler-${STAGE}-${fn}`, '--cli-binary-format', 'raw-in-base64-out', '--payload', payload, outfile]);
  return { run: r, meta: r.code === 0 ? (JSON.parse(r.stdout) as Record<string, unknown>) : {}, answer: existsSync(outfile) ? (JSON.parse(readFileSync(outfile, 'utf8')) as unknown) : undefined };
}

describeWithSandbox('operator-cli.test.ts')('operator tools against the sandbox (aws lambda invoke, pydio-autoscaler)', () => {
  let upRun: Run | undefined;

  beforeAll(async () => {
    // Room for one more replica set, so a storage expansion can be planned (the default MaxSize 2 refuses it).
    upRun = await sandbox(['up', '--timeout', '400', '--storage-max', '4'], 420_000);
    const state = JSON.parse(readFileSync(path.join(stateDir, 'cli-state.json'), 'utf8')) as { endpoint: string };
    endpoint = state.endpoint;
  }, 440_000);

  afterAll(async () => {
    const down = await sandbox(['down'], 200_000);
    rmSync(work, { recursive: true, force: true });
    expect({ code: down.code, stderr: down.stderr.split('\n').filter((l) => l.startsWith('sandbox:')) }).toEqual({ code: 0, stderr: [] });
    expect(leftovers(`pasbr${NAME}`, stateDir)).toEqual([]);
    expect(existsSync(stateDir)).toBe(false);
  }, 220_000);

  test('the sandbox is up and its front is the endpoint', () => {
    expect(upRun?.code).toBe(0);
    expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(existsSync(AWS_CLI)).toBe(true);
  });

  test('aws lambda invoke runs the deployed status function: the cluster as the functions see it', async () => {
    const { meta, answer, run: r } = await invokeWithAwsCli('status', '{}');
    expect(r.stderr).toBe('');
    expect(meta).toEqual({ StatusCode: 200, ExecutedVersion: '$LATEST' });
    expect(answer).toMatchObject({
      stage: STAGE,
      groups: { compute: { available: true, name: `${NAME}-compute`, desired: 1 }, storage: { available: true, name: `${NAME}-storage`, desired: 2, max: 4 } },
      targets: { available: true, healthy: 1 },
      // The status function reports the Gluster status the storage function last recorded: none yet.
      storage: { available: false, reason: expect.any(String) },
    });
  });

  test('aws lambda invoke: a storage dry run answers the plan; bad input and an unknown function are refused by name', async () => {
    let plan = await invokeWithAwsCli('storage', '{"volume":"pydio-data","sets":1,"dryRun":true}');
    for (let i = 1; i < 3 && /did not arrive within \d+s; retry/.test(JSON.stringify(plan.answer)); i += 1) {
      plan = await invokeWithAwsCli('storage', '{"volume":"pydio-data","sets":1,"dryRun":true}');
    }
    expect(plan.meta).toEqual({ StatusCode: 200, ExecutedVersion: '$LATEST' });
    expect(plan.answer).toMatchObject({ outcome: 'planned', dryRun: true, commands: expect.arrayContaining([expect.stringContaining('volume add-brick pydio-data replica 2')]) });

    const status = await invokeWithAwsCli('status', '{"volume":"pydio-data"}');
    expect(status.meta).toMatchObject({ StatusCode: 200, FunctionError: 'Unhandled' });
    expect(status.answer).toMatchObject({ errorType: 'MalformedEventError', errorMessage: expect.stringContaining('status takes no arguments') });

    const missing = await invokeWithAwsCli('nosuch', '{}');
    expect(missing.run.code).not.toBe(0);
    expect(missing.run.stderr).toContain(`An error occurred (ResourceNotFoundException) when calling the Invoke operation: Function not found: arn:aws:lambda:eu-west-1:123456789012:function:pydio-autoscaler-${STAGE}-nosuch`);
  });

  test('sls invoke reaches the same function through AWS_ENDPOINT_URL, with its execution log (--log)', async () => {
    // sls resolves the stage's configuration first: the values the sandbox packaged the stage with.
    const params = [`computeGroupName=${NAME}-compute`, `storageGroupName=${NAME}-storage`, 'targetGroupArn=arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/pas-placeholder/0000000000000000'];
    const r = await run(
      path.join(REPO_DIR, 'node_modules', '.bin', 'sls'),
      // --data: without it sls reads the payload from stdin, which a child process keeps open.
      ['invoke', '--stage', STAGE, '-f', 'status', '--log', '--data', '{}', ...params.map((p) => `--param=${p}`)],
      { ...OPERATOR_ENV, AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL: endpoint, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      180_000,
    );
    expect(r.code).toBe(0);
    const answer = JSON.parse(r.stdout.slice(0, r.stdout.indexOf('\n}\n') + 2)) as { stage: string; groups: { compute: { name: string } } };
    expect(answer).toMatchObject({ stage: STAGE, groups: { compute: { name: `${NAME}-compute` } } });
    expect(r.stdout).toMatch(/^END Duration: \d+\.\d+ ms/m);
  });

  test('pydio-autoscaler status prints the groups, targets and volumes as tables, --json the function\'s answer', async () => {
    const table = await operator(['status']);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain(`Stage ${STAGE} at `);
    expect(table.stdout).toMatch(new RegExp(`^ {2}${NAME}-compute: desired 1 \\(min \\d+, max 4\\); 1 InService$`, 'm'));
    expect(table.stdout).toMatch(/^ {2}i-[0-9a-f]+ +eu-west-1[ab] +InService +Healthy +no +no$/m);
    expect(table.stdout).toMatch(/^ {2}pydio-data +Started +2 +yes$/m);
    expect(table.stdout).toMatch(/^ {2}i-[0-9a-f]+ +80 +healthy/m);
    expect(table.stderr).toMatch(new RegExp(`^pydio-autoscaler: invoking pydio-autoscaler-${STAGE}-status \\(.*\\): answered after \\d+\\.\\ds$`, 'm'));

    const json = await operator(['status', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ stage: STAGE, groups: { compute: { name: `${NAME}-compute`, desired: 1 } } });
  });

  test('pydio-autoscaler storage plan reads the volumes and prints the plan without changing anything; expand without --yes is the same dry run', async () => {
    const plan = await retriedWhileStatusLate(() => operator(['storage', 'plan', '--sets', '1']));
    expect({ code: plan.code, refusal: plan.code === 3 ? plan.stdout : '' }).toEqual({ code: 0, refusal: '' });
    expect(plan.stdout).toContain('pydio-data grows by 1 replica set (2 bricks, zones eu-west-1a + eu-west-1b)');
    expect(plan.stdout).toContain('Dry run: nothing was changed.');
    expect(plan.stdout).toContain('gluster --mode=script volume rebalance pydio-data start');
    expect(plan.stderr).toMatch(new RegExp(`pydio-autoscaler: invoking pydio-autoscaler-${STAGE}-storage \\(dry run of expand pydio-data: .*\\): answered after \\d+\\.\\ds`));

    const expand = await retriedWhileStatusLate(() => operator(['storage', 'expand', '--json']));
    expect(expand.code).toBe(0);
    expect(JSON.parse(expand.stdout)).toMatchObject({ outcome: 'planned', dryRun: true });

    const after = JSON.parse((await operator(['status', '--json'])).stdout) as { groups: { storage: { desired: number } } };
    expect(after.groups.storage.desired).toBe(2);
  });

  test('bad input and a stage that is not deployed are one sentence each, naming the problem', async () => {
    const sets = await operator(['storage', 'expand', '--sets', '0']);
    expect(sets.code).toBe(2);
    expect(sets.stderr).toBe('pydio-autoscaler: storage request: field sets must be a whole number from 1 to 16, got 0 (option --sets)\n');

    const stage = await run(process.execPath, [OPERATOR_CLI, 'status', '--stage', 'nosuch', '--region', 'eu-west-1', '--endpoint-url', endpoint], OPERATOR_ENV);
    expect(stage.code).toBe(1);
    expect(stage.stderr.trim().split('\n').at(-1)).toBe(
      `pydio-autoscaler: function pydio-autoscaler-nosuch-status is not deployed in eu-west-1 at ${endpoint}: check --stage and --region (deploy with npx sls deploy --stage nosuch) [Lambda: ResourceNotFoundException: Function not found: arn:aws:lambda:eu-west-1:123456789012:function:pydio-autoscaler-nosuch-status]`,
    );
  });

  test('pydio-autoscaler decisions reads back the alarm function\'s decision and the notices sent, from CloudWatch Logs', async () => {
    // CPU high in ALARM: the alarm function scales compute out 1 -> 2 and tells ops (the launch itself is not waited for).
    const alarm = await sandbox(['alarm', `pydio-autoscaler-${STAGE}-compute-cpu-high`, 'ALARM', '--value', '91']);
    expect(alarm.code).toBe(0);
    let out: { entries: Record<string, unknown>[]; missingLogGroups: string[] } = { entries: [], missingLogGroups: [] };
    for (let i = 0; i < 30; i += 1) {
      const r = await operator(['decisions', '--since', '1h', '--limit', '100', '--json']);
      if (r.code === 0) out = JSON.parse(r.stdout) as typeof out;
      if (out.entries.some((e) => e.kind === 'decision')) break;
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
    // No re-check after this test: the alarm back to OK (a decision of its own, logged).
    await sandbox(['alarm', `pydio-autoscaler-${STAGE}-compute-cpu-high`, 'OK']);
    expect(out.missingLogGroups).toEqual([]);
    expect(out.entries).toContainEqual(
      expect.objectContaining({
        kind: 'decision',
        alarmName: `pydio-autoscaler-${STAGE}-compute-cpu-high`,
        decision: 'scale',
        group: `${NAME}-compute`,
        from: 1,
        to: 2,
        outcome: 'acted',
        notice: expect.objectContaining({ eventType: 'scaling.decided', subject: expect.stringContaining(`scale-out ${NAME}-compute 1->2`) }),
      }),
    );
    // The storage dry runs above told ops their plans; the lifecycle function told the boot scale-out.
    expect(out.entries).toContainEqual(expect.objectContaining({ kind: 'notice', function: 'storage', eventType: 'storage.planned' }));
    expect(out.entries).toContainEqual(expect.objectContaining({ kind: 'notice', function: 'lifecycle', eventType: 'lifecycle.succeeded' }));

    const table = await operator(['decisions', '--since', '1h']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`^ {2}\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ +alarm +scale ${NAME}-compute 1->2 +acted: desired capacity set to 2 +info `, 'm'));
    expect(table.stdout).toMatch(/^ {2}\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ +storage +notice +storage\.planned +info /m);
  });
});
