/**
 * The two AWS-owned documents the storage launch flow runs, registered in the
 * emulator under their real names with their real parameters (names, types,
 * defaults, allowedValues, allowedPattern) so Run Command validates a call as
 * SSM would. Their steps are the sandbox's: the emulator runs only
 * aws:runShellScript and knows no preconditions, so the ManageAgent steps for
 * Windows and macOS are no-ops that say they were skipped, and the Linux step
 * keeps the real one's contract: it refuses when the agent is not installed,
 * maps the action to the agent's fetch-config, requires a location for ssm.
 * "Installing" writes the package marker and "configuring" writes the agent's
 * state in the host's own /etc (an overlay per host), where the sandbox's
 * metrics agent reads which parameter the host's agent runs with.
 *
 * Sources:
 * - AWS-ConfigureAWSPackage: Systems Manager User Guide, "Install or update
 *   packages" (awsdocs/aws-systems-manager-user-guide
 *   doc_source/distributor-working-with-packages-deploy.md): parameters
 *   action (Install), installationType ("Uninstall and reinstall" is the
 *   default, "In-place update" is "not supported for AWS-published
 *   packages"), name, version; additionalArguments as in the document. The
 *   name and version patterns of the real document were not found: none is
 *   enforced here (the flow sends the fixed package name).
 * - AmazonCloudWatch-ManageAgent: its content as the agent's own test suite
 *   carries it (aws/amazon-cloudwatch-agent-test
 *   test/ssm_document/resources/test_amazoncloudwatch_manageagent.json):
 *   parameters action, mode, optionalConfigurationSource,
 *   optionalConfigurationLocation (allowedPattern
 *   ^[a-zA-Z0-9-"~:_@./^(*)!<>?=+,]*$), optionalRestart; steps
 *   ControlCloudWatchAgentWindows, ControlCloudWatchAgentLinux,
 *   ControlCloudWatchAgentMacOS; the Linux step exits 1 with "CloudWatch
 *   Agent not installed." when the agent's ctl is missing.
 */
import { CreateDocumentCommand, GetCommandInvocationCommand, SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import { configureAgentParameters, installAgentParameters } from '../../../lib/usecases/storage/cloudwatch-agent';

/** SendCommand's TimeoutSeconds (time to reach the agent) is at least 30 s; the wait below keeps its own bound. */
const SEND_COMMAND_MIN_TIMEOUT_SECONDS = 30;

export const CONFIGURE_PACKAGE_DOCUMENT = 'AWS-ConfigureAWSPackage';
export const MANAGE_AGENT_DOCUMENT = 'AmazonCloudWatch-ManageAgent';
/** The package name of the CloudWatch agent in Distributor. */
export const AGENT_PACKAGE = 'AmazonCloudWatchAgent';

/** Inside a host: where the sandbox keeps the agent's install marker and state (the host's /etc overlay). */
export const AGENT_DIR = '/etc/pas-amazon-cloudwatch-agent';
/** The same files from outside: `<stateDir>/hosts/<id>/etc-upper/...` (test/sandbox/bin/holder.sh mounts /etc as an overlay with that upper dir). */
export const AGENT_STATE_UPPER = 'etc-upper/pas-amazon-cloudwatch-agent/state.json';

/** The JSON state the sandbox's "agent" keeps: what `amazon-cloudwatch-agent-ctl -a status` would tell, plus the config source. */
export interface AgentState {
  readonly status: 'running' | 'stopped';
  readonly configstatus: 'configured' | 'not configured';
  /** ssm:<parameter name> as given to fetch-config. */
  readonly config: string;
  readonly mode: string;
}

const ENV = { interpolationType: 'ENV_VAR' } as const;

const configurePackage = {
  schemaVersion: '2.2',
  description: 'Install or uninstall a Distributor package (sandbox stand-in of the AWS-owned document).',
  parameters: {
    action: { type: 'String', allowedValues: ['Install', 'Uninstall'], ...ENV },
    installationType: { type: 'String', default: 'Uninstall and reinstall', allowedValues: ['Uninstall and reinstall', 'In-place update'], ...ENV },
    name: { type: 'String', ...ENV },
    version: { type: 'String', default: '', ...ENV },
    additionalArguments: { type: 'String', default: '{}', ...ENV },
  },
  mainSteps: [
    {
      action: 'aws:runShellScript',
      name: 'configurePackage',
      inputs: {
        runCommand: [
          'set -eu',
          `dir=${AGENT_DIR}`,
          `if [ "$SSM_name" != "${AGENT_PACKAGE}" ]; then echo "Package $SSM_name is not known to the sandbox (only ${AGENT_PACKAGE})"; exit 1; fi`,
          'if [ "$SSM_installationType" = "In-place update" ]; then echo "In-place update is not supported for AWS-published packages"; exit 1; fi',
          'if [ "$SSM_action" = "Uninstall" ]; then rm -rf "$dir"; echo "Successfully uninstalled $SSM_name"; exit 0; fi',
          'mkdir -p "$dir"',
          'printf \'%s\\n\' "${SSM_version:-latest}" >"$dir/installed"',
          'echo "Successfully installed $SSM_name ${SSM_version:-latest}"',
        ],
      },
    },
  ],
};

const skipped = (platform: string) => [`echo 'Step execution skipped due to unsatisfied preconditions: "StringEquals": [platformType, ${platform}]'`];

const manageAgent = {
  schemaVersion: '2.2',
  description: 'Send commands to Amazon CloudWatch Agent (sandbox stand-in of the AWS-owned document).',
  parameters: {
    action: { type: 'String', default: 'configure', allowedValues: ['configure', 'configure (append)', 'configure (remove)', 'start', 'status', 'status-with-workloads', 'stop'], ...ENV },
    mode: { type: 'String', default: 'ec2', allowedValues: ['ec2', 'onPremise', 'auto'], ...ENV },
    optionalConfigurationSource: { type: 'String', default: 'ssm', allowedValues: ['ssm', 'default', 'all'], ...ENV },
    optionalConfigurationLocation: { type: 'String', default: '', allowedPattern: '^[a-zA-Z0-9-"~:_@./^(*)!<>?=+,]*$', ...ENV },
    optionalRestart: { type: 'String', default: 'yes', allowedValues: ['yes', 'no'], ...ENV },
  },
  mainSteps: [
    { action: 'aws:runShellScript', name: 'ControlCloudWatchAgentWindows', inputs: { runCommand: skipped('Windows') } },
    {
      action: 'aws:runShellScript',
      name: 'ControlCloudWatchAgentLinux',
      inputs: {
        runCommand: [
          'set -eu',
          `dir=${AGENT_DIR}`,
          "if [ ! -f \"$dir/installed\" ]; then echo 'CloudWatch Agent not installed.  Please install it using the AWS-ConfigureAWSPackage SSM Document.'; exit 1; fi",
          'case "$SSM_action" in',
          '  configure) ;;',
          '  *) echo "the sandbox agent emulates only the configure action, not $SSM_action"; exit 1 ;;',
          'esac',
          'if [ "$SSM_optionalConfigurationSource" != ssm ]; then echo "the sandbox agent emulates only optionalConfigurationSource ssm"; exit 1; fi',
          "if [ -z \"$SSM_optionalConfigurationLocation\" ]; then echo 'AmazonCloudWatchAgent config should be specified'; exit 1; fi",
          'case "$SSM_optionalConfigurationLocation" in *,*) echo "the sandbox agent does not merge several configurations"; exit 1 ;; esac',
          'status=stopped',
          'if [ "$SSM_optionalRestart" = yes ]; then status=running; fi',
          'printf \'{"status":"%s","configstatus":"configured","config":"ssm:%s","mode":"%s"}\\n\' "$status" "$SSM_optionalConfigurationLocation" "$SSM_mode" >"$dir/state.json.tmp"',
          'mv "$dir/state.json.tmp" "$dir/state.json"',
          'cat "$dir/state.json"',
        ],
      },
    },
    { action: 'aws:runShellScript', name: 'ControlCloudWatchAgentMacOS', inputs: { runCommand: skipped('MacOS') } },
  ],
};

/** The documents by name (tests read their parameters). */
export const AWS_DOCUMENTS: Readonly<Record<string, object>> = {
  [CONFIGURE_PACKAGE_DOCUMENT]: configurePackage,
  [MANAGE_AGENT_DOCUMENT]: manageAgent,
};

/** Registers both documents in the emulator (moto accepts these names; real SSM owns them). */
export async function registerAwsDocuments(clientConfig: object): Promise<void> {
  const ssm = new SSMClient(clientConfig);
  for (const [name, content] of Object.entries(AWS_DOCUMENTS)) {
    await ssm.send(new CreateDocumentCommand({ Name: name, Content: JSON.stringify(content), DocumentType: 'Command', DocumentFormat: 'JSON' }));
  }
}

/** The agent's state as a host left it, or undefined when the agent was never configured there. */
export function parseAgentState(text: string): AgentState | undefined {
  try {
    const s = JSON.parse(text) as Partial<AgentState>;
    if ((s.status === 'running' || s.status === 'stopped') && typeof s.config === 'string' && typeof s.mode === 'string') {
      return { status: s.status, configstatus: 'configured', config: s.config, mode: s.mode };
    }
  } catch {
    // not written yet, or written by something else
  }
  return undefined;
}

/**
 * What ops run on storage members that exist before the stack (the sandbox's
 * boot members never went through the launch flow): the same two documents,
 * with the parameters the launch flow sends, through Run Command; waits for
 * the step that does the work (documents with several steps are read per
 * step). Throws with the step's output when one fails.
 */
export async function configureAgentOn(clientConfig: object, instanceIds: readonly string[], parameterName: string, timeoutMs = 300_000): Promise<void> {
  const ssm = new SSMClient(clientConfig);
  const asLists = (p: Record<string, string>) => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, [v]]));
  // The parameters the launch flow sends (lib/usecases/storage/cloudwatch-agent.ts).
  const runs: Array<{ document: string; step: string; parameters: Record<string, string[]> }> = [
    { document: CONFIGURE_PACKAGE_DOCUMENT, step: 'configurePackage', parameters: asLists(installAgentParameters()) },
    { document: MANAGE_AGENT_DOCUMENT, step: 'ControlCloudWatchAgentLinux', parameters: asLists(configureAgentParameters(parameterName)) },
  ];
  for (const run of runs) {
    const sent = await ssm.send(new SendCommandCommand({ DocumentName: run.document, InstanceIds: [...instanceIds], Parameters: run.parameters, TimeoutSeconds: Math.max(SEND_COMMAND_MIN_TIMEOUT_SECONDS, Math.ceil(timeoutMs / 1000)) }));
    const commandId = sent.Command?.CommandId ?? '';
    for (const instanceId of instanceIds) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const inv = await ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId, PluginName: run.step })).catch((error: unknown) => {
          if (error instanceof Error && error.name === 'InvocationDoesNotExist') return undefined;
          throw error;
        });
        const status = inv?.Status ?? 'Pending';
        if (status === 'Success') break;
        if (!['Pending', 'InProgress', 'Delayed'].includes(status)) {
          throw new Error(`${run.document} on ${instanceId}: ${status}: ${(inv?.StandardOutputContent ?? '').trim()} ${(inv?.StandardErrorContent ?? '').trim()}`);
        }
        if (Date.now() > deadline) throw new Error(`${run.document} on ${instanceId} still ${status} after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }
}
