import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { configureAgentParameters, installAgentParameters } from '../../../lib/usecases/storage/cloudwatch-agent';
import { AGENT_CONFIG_PARAMETER, AGENT_CONFIGURE_DOCUMENT, AGENT_INSTALL_DOCUMENT } from '../../../lib/config/storage';
import { AGENT_DIR, AWS_DOCUMENTS, CONFIGURE_PACKAGE_DOCUMENT, MANAGE_AGENT_DOCUMENT, parseAgentState } from '../../sandbox/control-plane/aws-documents';
import { parseDocument, renderStep, resolveParameters } from '../../sandbox/control-plane/run-command';

const PARAMETER = 'AmazonCloudWatch-pydio-autoscaler-test-storage';
const lists = (p: Record<string, string>) => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, [v]]));

/** One document as the emulator would run it: parsed, parameters validated, every step rendered. */
function rendered(name: string, parameters: Record<string, string[]>) {
  const { parameters: declared, steps } = parseDocument(name, JSON.stringify(AWS_DOCUMENTS[name]), 'JSON');
  const values = resolveParameters(declared, parameters);
  return steps.map((step) => ({ name: step.name, ...renderStep(step, declared, values) }));
}

/**
 * Runs a rendered step with bash, the agent's directory moved into `root`. The bound is generous:
 * the suite runs two files at a time beside sandbox e2e files, and a step cut short by a busy
 * machine would read as the step failing.
 */
function run(step: { script: string; env: Record<string, string> }, root: string): { status: number | null; stdout: string } {
  const script = step.script.split(AGENT_DIR).join(path.join(root, 'agent'));
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...step.env }, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout };
}

describe('the AWS documents the launch flow runs, as the sandbox stands them in', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'pas-cwagent-'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('are the documents the product names, and accept exactly the parameters the flow sends', () => {
    expect([AGENT_INSTALL_DOCUMENT, AGENT_CONFIGURE_DOCUMENT]).toEqual([CONFIGURE_PACKAGE_DOCUMENT, MANAGE_AGENT_DOCUMENT]);
    expect(rendered(CONFIGURE_PACKAGE_DOCUMENT, lists(installAgentParameters())).map((s) => s.name)).toEqual(['configurePackage']);
    expect(rendered(MANAGE_AGENT_DOCUMENT, lists(configureAgentParameters(PARAMETER))).map((s) => s.name)).toEqual([
      'ControlCloudWatchAgentWindows', 'ControlCloudWatchAgentLinux', 'ControlCloudWatchAgentMacOS',
    ]);
  });

  it('refuse what SSM refuses: values outside allowedValues or the location pattern, unknown parameters, a missing package name', () => {
    expect(() => rendered(MANAGE_AGENT_DOCUMENT, lists({ ...configureAgentParameters(PARAMETER), optionalRestart: 'maybe' }))).toThrow(/optionalRestart/);
    expect(() => rendered(MANAGE_AGENT_DOCUMENT, lists(configureAgentParameters('AmazonCloudWatch-a b')))).toThrow(/optionalConfigurationLocation/);
    expect(() => rendered(MANAGE_AGENT_DOCUMENT, lists({ ...configureAgentParameters(PARAMETER), config: 'x' }))).toThrow(/not defined/);
    expect(() => rendered(CONFIGURE_PACKAGE_DOCUMENT, lists({ action: 'Install' }))).toThrow(/"name" is required/);
  });

  it('every parameter name the product accepts passes the location pattern of AmazonCloudWatch-ManageAgent', () => {
    const pattern = new RegExp((AWS_DOCUMENTS[MANAGE_AGENT_DOCUMENT] as { parameters: { optionalConfigurationLocation: { allowedPattern: string } } }).parameters.optionalConfigurationLocation.allowedPattern);
    for (const name of [PARAMETER, 'AmazonCloudWatch-a', 'AmazonCloudWatch-x.y_z-1']) {
      expect(name).toMatch(AGENT_CONFIG_PARAMETER);
      expect(name).toMatch(pattern);
    }
    // A comma would be merged as two configurations, a slash is outside the managed policy's parameter/AmazonCloudWatch-*.
    for (const name of ['AmazonCloudWatch-a,b', '/AmazonCloudWatch-a', 'CloudWatch-a', 'AmazonCloudWatch-']) expect(name).not.toMatch(AGENT_CONFIG_PARAMETER);
  });

  it('configuring an agent that is not installed fails as the real Linux step does; installed, it runs with the parameter as its configuration', () => {
    const configure = rendered(MANAGE_AGENT_DOCUMENT, lists(configureAgentParameters(PARAMETER)));
    const linux = configure.find((s) => s.name === 'ControlCloudWatchAgentLinux')!;
    expect(run(linux, root)).toEqual({ status: 1, stdout: expect.stringContaining('CloudWatch Agent not installed.') });

    const [install] = rendered(CONFIGURE_PACKAGE_DOCUMENT, lists(installAgentParameters()));
    expect(run(install!, root)).toEqual({ status: 0, stdout: expect.stringContaining('Successfully installed AmazonCloudWatchAgent') });
    for (const step of configure) expect(run(step, root).status).toBe(0);
    const state = parseAgentState(fs.readFileSync(path.join(root, 'agent', 'state.json'), 'utf8'));
    expect(state).toEqual({ status: 'running', configstatus: 'configured', config: `ssm:${PARAMETER}`, mode: 'ec2' });
  });

  it('without a restart the agent keeps its old state (stopped here): the metrics agent publishes nothing for it', () => {
    const [install] = rendered(CONFIGURE_PACKAGE_DOCUMENT, lists(installAgentParameters()));
    run(install!, root);
    const linux = rendered(MANAGE_AGENT_DOCUMENT, lists({ ...configureAgentParameters(PARAMETER), optionalRestart: 'no' })).find((s) => s.name === 'ControlCloudWatchAgentLinux')!;
    expect(run(linux, root).status).toBe(0);
    expect(parseAgentState(fs.readFileSync(path.join(root, 'agent', 'state.json'), 'utf8'))?.status).toBe('stopped');
  });
});
