/** Launch steps that install and configure the CloudWatch agent on a new storage member (a failure is a warning, not an ABANDON). */
import { secondsSince } from '../../core/flow';
import { AwsCallError } from '../../errors';
import type { StorageFlowState, StorageOutcome } from '../../core/storage/flow-state';
import type { StorageDeps } from './cluster';
import { AGENT_CONFIGURE_DOCUMENT, AGENT_INSTALL_DOCUMENT, AGENT_PACKAGE } from '../../config/storage';
import { runDocumentStep } from './documents';

/**
 * Launch steps that install the CloudWatch agent (AWS-ConfigureAWSPackage)
 * and start it with the stack's configuration (AmazonCloudWatch-ManageAgent,
 * configure from the SSM parameter, restart): the agent publishes the brick
 * disk metric the disk alarm watches.
 *
 * A failure is a warning of the join, told to ops with it, not an ABANDON:
 * the brick serves data without the agent, and abandoning the node would take
 * a replica set's member away for a missing metric. The price, said in the
 * warning: the disk alarm does not see this brick until ops run the documents.
 */
/** AWS-ConfigureAWSPackage: install the agent's Distributor package ("In-place update" is not supported for AWS-published packages). */
export function installAgentParameters(): Record<string, string> {
  return { action: 'Install', installationType: 'Uninstall and reinstall', name: AGENT_PACKAGE };
}

/** AmazonCloudWatch-ManageAgent: fetch the configuration from the SSM parameter and restart the agent with it. */
export function configureAgentParameters(parameter: string): Record<string, string> {
  return { action: 'configure', mode: 'ec2', optionalConfigurationSource: 'ssm', optionalConfigurationLocation: parameter, optionalRestart: 'yes' };
}

/** An AWS error that a later try would meet again: a client fault other than throttling (a throttled call waits: flow-runner.ts). */
function isRefusal(error: unknown): boolean {
  if (!(error instanceof AwsCallError)) return false;
  const cause = error.cause as { $fault?: unknown } | undefined;
  return cause?.$fault === 'client' && !error.throttled;
}

export async function cloudWatchAgentStep(state: StorageFlowState, deps: StorageDeps, node: { instanceId: string; host: string }): Promise<StorageOutcome> {
  const parameter = deps.storage.agent.configParameter;
  if (parameter === '') return { kind: 'next', skipTo: 'peer-probe' };
  const install = state.step === 'install-cloudwatch-agent';
  let result;
  try {
    result = install
      ? await runDocumentStep(state, deps, AGENT_INSTALL_DOCUMENT, node, installAgentParameters(), 'CloudWatch agent install', { successOnly: true })
      : await runDocumentStep(state, deps, AGENT_CONFIGURE_DOCUMENT, node, configureAgentParameters(parameter), `CloudWatch agent configuration from ${parameter}`, { successOnly: true });
  } catch (error) {
    // AWS refusing the call (access denied, a document it does not know) would refuse every
    // re-delivery too: a warning like a failed document. Anything else is retried by the queue.
    if (!isRefusal(error)) throw error;
    result = { kind: 'fail' as const, reason: error instanceof Error ? error.message : String(error) };
  }
  if (result.kind === 'result') return { kind: 'next' };
  if (result.kind !== 'fail') return result;
  const took = Math.round(secondsSince(state.stepStartedAt, deps.now()));
  return {
    kind: 'next',
    skipTo: 'peer-probe',
    warning: `CloudWatch agent ${install ? 'not installed' : 'not configured'} on ${node.instanceId} after ${took}s (${result.reason}): the brick disk alarm does not see this brick until ${AGENT_INSTALL_DOCUMENT} and ${AGENT_CONFIGURE_DOCUMENT} (configuration ${parameter}) succeed there`,
  };
}
