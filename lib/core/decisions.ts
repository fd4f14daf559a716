import type { CommandInvocation } from '../ports/ssm';
import type { TargetHealth, TargetGroupSettings } from '../ports/elbv2';
import type { StepOutcome } from './flow';

/** Last lines of a command's output, for a person to read in a notification. */
export function outputTail(invocation: Pick<CommandInvocation, 'stdout' | 'stderr'>, lines = 20): string {
  const pick = (text: string) => text.trimEnd().split('\n').slice(-lines).join('\n');
  const parts: string[] = [];
  if (invocation.stderr.trim()) parts.push(`stderr:\n${pick(invocation.stderr)}`);
  if (invocation.stdout.trim()) parts.push(`stdout:\n${pick(invocation.stdout)}`);
  return parts.join('\n') || '(no output)';
}

/** What a document step does with its command's current invocation. */
export function decideInvocation(
  invocation: CommandInvocation,
  document: string,
  elapsedSeconds: number,
  timeoutSeconds: number,
): StepOutcome {
  switch (invocation.status) {
    case 'Success':
      return { kind: 'next' };
    case 'Pending':
    case 'InProgress':
    case 'Delayed':
    case 'Cancelling':
      // SSM times the command out itself; the margin covers a lost invocation.
      if (elapsedSeconds > timeoutSeconds + 120) {
        return { kind: 'fail', reason: `${document} still ${invocation.status} after ${Math.round(elapsedSeconds)}s (timeout ${timeoutSeconds}s)` };
      }
      return { kind: 'wait', reason: `${document} is ${invocation.status}` };
    case 'TimedOut':
      return { kind: 'fail', reason: `${document} timed out`, output: outputTail(invocation) };
    case 'Cancelled':
      return { kind: 'fail', reason: `${document} was cancelled`, output: outputTail(invocation) };
    case 'Failed':
    default:
      return {
        kind: 'fail',
        reason: `${document} failed with exit code ${invocation.exitCode}`,
        output: outputTail(invocation),
      };
  }
}

/**
 * Our documents take their parameters as SSM_<name> variables (interpolationType
 * ENV_VAR), which agents before 3.3.2746.0 do not set (Systems Manager user guide,
 * "Troubleshooting parameter handling issues": "Verify SSM Agent version is
 * 3.3.2746.0 or later").
 */
export const ENV_VAR_MIN_AGENT_VERSION = '3.3.2746.0';

/** Why an agent of this version cannot run our documents, or undefined when it can (or its version is unknown). */
export function agentTooOld(agentVersion: string | undefined): string | undefined {
  if (agentVersion === undefined || !/^\d+(\.\d+)*$/.test(agentVersion)) return undefined;
  const have = agentVersion.split('.').map(Number);
  const need = ENV_VAR_MIN_AGENT_VERSION.split('.').map(Number);
  for (let i = 0; i < need.length; i += 1) {
    const d = (have[i] ?? 0) - (need[i] ?? 0);
    if (d > 0) return undefined;
    if (d < 0) {
      return `SSM agent ${agentVersion} is older than ${ENV_VAR_MIN_AGENT_VERSION}, the first that passes document parameters as SSM_ variables (ENV_VAR): update amazon-ssm-agent in the image`;
    }
  }
  return undefined;
}

/** After registration: wait for `healthy`, within the timeout. */
export function decideHealthy(health: TargetHealth, elapsedSeconds: number, timeoutSeconds: number): StepOutcome {
  if (health.state === 'healthy') return { kind: 'next' };
  if (health.state === 'absent' || health.state === 'unused' || health.state === 'draining') {
    return { kind: 'fail', reason: `target left the target group while waiting to be healthy (state ${health.state}${health.reason ? `, ${health.reason}` : ''})` };
  }
  if (elapsedSeconds > timeoutSeconds) {
    const why = [health.reason, health.description].filter(Boolean).join(': ');
    return { kind: 'fail', reason: `target not healthy after ${Math.round(elapsedSeconds)}s (state ${health.state}${why ? `, ${why}` : ''})` };
  }
  return { kind: 'wait', reason: `target is ${health.state}` };
}

/**
 * After deregistration: wait while the target drains, honouring the target
 * group's deregistration delay but never past `maxSeconds`.
 */
export function decideDrained(
  health: TargetHealth,
  elapsedSeconds: number,
  delaySeconds: number,
  maxSeconds: number,
  maxRetrySeconds: number,
): StepOutcome {
  if (health.state !== 'draining') return { kind: 'next' };
  const limit = Math.min(delaySeconds + 30, maxSeconds);
  if (elapsedSeconds >= limit) {
    return {
      kind: 'next',
      warning: `target still draining after ${Math.round(elapsedSeconds)}s (deregistration delay ${delaySeconds}s, bound ${maxSeconds}s): went on with the drain`,
    };
  }
  const remaining = Math.max(1, Math.ceil(limit - elapsedSeconds));
  return { kind: 'wait', reason: 'target is draining', delaySeconds: Math.min(remaining, maxRetrySeconds) };
}

/**
 * Warnings about the target group's settings the cluster relies on: app_cookie
 * stickiness on the app's own session cookie (`cookieName`, from the app profile
 * or APP_SESSION_COOKIE). An ALB only sticks when a target's response sets the
 * cookie named in the target group, so any other name never engages.
 */
export function stickinessWarnings(settings: TargetGroupSettings, cookieName: string): string[] {
  if (!settings.stickinessEnabled) {
    return [`target group stickiness is off: sessions will hop between nodes (enable app_cookie stickiness on ${cookieName})`];
  }
  if (settings.stickinessType !== 'app_cookie' || settings.cookieName !== cookieName) {
    return [`target group stickiness is ${settings.stickinessType}${settings.cookieName ? ` on ${settings.cookieName}` : ''}, expected app_cookie on ${cookieName}`];
  }
  return [];
}

/** The target group must not be attached to the group: it would register nodes before they are ready. */
export function attachmentWarnings(groupTargetGroupArns: readonly string[], targetGroupArn: string): string[] {
  return groupTargetGroupArns.includes(targetGroupArn)
    ? ['the target group is attached to the Auto Scaling group itself: Auto Scaling registers new nodes before they are mounted and configured; detach it and let the lifecycle flow register them']
    : [];
}

/** The lifecycle state in which the group waits for our hook. */
export function waitingState(transition: 'launch' | 'terminate'): string {
  return transition === 'launch' ? 'Pending:Wait' : 'Terminating:Wait';
}
