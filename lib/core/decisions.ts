import type { CommandInvocation } from '../ports/ssm';
import type { HealthCheckRhythm, TargetHealth, TargetGroupSettings } from '../ports/elbv2';
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

/**
 * Waits that no event ends are timed from what is known of them: the first check lands when the
 * state can first be true, then checks follow at the rhythm the state can change at. Every delay is
 * capped at RETRY_MAX_SECONDS (`maxDelaySeconds`), the longest wait the engine's guarantees are
 * built on: CLAIM_TTL_SECONDS is refused below twice it (config/env.ts holdTtl), so a claim outlives
 * any wait, and needsHeartbeat (core/flow.ts) records a heartbeat before any wait that could pass
 * half the hook's timeout (heartbeatWarning names a RETRY_MAX_SECONDS too long for the hook).
 */

/** Seconds added to a time a state can first be true: ELB's intervals are approximate. */
export const CHECK_MARGIN_SECONDS = 1;

/** The wait until `atSeconds` into the step (at least 1 s, at most `maxDelaySeconds`), or undefined once it has come. */
export function waitUntil(elapsedSeconds: number, atSeconds: number, maxDelaySeconds: number): number | undefined {
  if (elapsedSeconds >= atSeconds) return undefined;
  return boundedDelay(atSeconds - elapsedSeconds, maxDelaySeconds);
}

function boundedDelay(seconds: number, maxDelaySeconds: number): number {
  return Math.max(1, Math.min(Math.ceil(seconds), maxDelaySeconds));
}

/**
 * When a newly registered target can first be healthy, in seconds after registration. The ALB user
 * guide: "After your target is registered, it must pass one health check to be considered healthy",
 * and "The load balancer sends a health check request to each registered target every
 * HealthCheckIntervalSeconds seconds": one interval (plus a margin). HealthyThresholdCount is for
 * an unhealthy target coming back ("When the health checks exceed HealthyThresholdCount
 * consecutive successes, the load balancer puts the target back in service").
 */
export function firstHealthyCheckSeconds(check: HealthCheckRhythm): number {
  return check.intervalSeconds + CHECK_MARGIN_SECONDS;
}

/**
 * After registration: wait for `healthy`, within the timeout. With the target group's health check
 * known, the next look is one interval later (the state changes at most once a check); without it
 * (a continuation sent before the rhythm was carried), the engine's backoff.
 */
export function decideHealthy(
  health: TargetHealth,
  elapsedSeconds: number,
  timeoutSeconds: number,
  rhythm?: { readonly check: HealthCheckRhythm; readonly maxDelaySeconds: number },
): StepOutcome {
  if (health.state === 'healthy') return { kind: 'next' };
  if (health.state === 'absent' || health.state === 'unused' || health.state === 'draining') {
    return { kind: 'fail', reason: `target left the target group while waiting to be healthy (state ${health.state}${health.reason ? `, ${health.reason}` : ''})` };
  }
  if (elapsedSeconds > timeoutSeconds) {
    const why = [health.reason, health.description].filter(Boolean).join(': ');
    const checks = rhythm ? `; checked every ${rhythm.check.intervalSeconds}s, back after ${rhythm.check.healthyThreshold} passes once unhealthy` : '';
    return { kind: 'fail', reason: `target not healthy after ${Math.round(elapsedSeconds)}s (state ${health.state}${why ? `, ${why}` : ''}${checks})` };
  }
  if (!rhythm) return { kind: 'wait', reason: `target is ${health.state}` };
  // Past the timeout by at most one short wait: the last look is at the timeout, not an interval after it.
  const untilTimeout = timeoutSeconds - elapsedSeconds + CHECK_MARGIN_SECONDS;
  return { kind: 'wait', reason: `target is ${health.state}`, delaySeconds: boundedDelay(Math.min(rhythm.check.intervalSeconds, untilTimeout), rhythm.maxDelaySeconds) };
}

/**
 * A target that fails its first checks needs HealthyThresholdCount passes in a row, one interval
 * apart, to come back: a healthy timeout shorter than that abandons a node that was about to be healthy.
 */
export function healthCheckWarnings(check: HealthCheckRhythm, healthyTimeoutSeconds: number): string[] {
  const recovery = check.intervalSeconds * check.healthyThreshold;
  return healthyTimeoutSeconds < recovery
    ? [`HEALTHY_TIMEOUT_SECONDS (${healthyTimeoutSeconds}s) is shorter than the ${recovery}s an unhealthy target needs to come back (${check.healthyThreshold} passes, ${check.intervalSeconds}s apart): a node whose first checks fail is abandoned`]
    : [];
}

/** Seconds after the deregistration delay a target may still show draining before the flow goes on. */
export const DRAIN_GRACE_SECONDS = 30;

/** How long into the drain step a target may show draining: the delay and its grace, never past `maxSeconds`. */
export function drainLimitSeconds(delaySeconds: number, maxSeconds: number): number {
  return Math.min(delaySeconds + DRAIN_GRACE_SECONDS, maxSeconds);
}

/**
 * When a deregistered target can first be gone: it shows draining until the deregistration delay
 * has passed (TargetHealth: "Target.DeregistrationInProgress - The target is in the process of
 * being deregistered and the deregistration delay period has not expired"), so the first look is
 * at the end of the delay (plus a margin), within the step's limit.
 */
export function firstDrainedCheckSeconds(delaySeconds: number, maxSeconds: number): number {
  return Math.min(delaySeconds + CHECK_MARGIN_SECONDS, drainLimitSeconds(delaySeconds, maxSeconds));
}

/**
 * After deregistration: wait while the target drains, honouring the target
 * group's deregistration delay but never past `maxSeconds`: until the delay is
 * over, one wait to its end; after it, short checks (`checkEverySeconds`).
 */
export function decideDrained(
  health: TargetHealth,
  elapsedSeconds: number,
  delaySeconds: number,
  maxSeconds: number,
  maxRetrySeconds: number,
  checkEverySeconds: number,
): StepOutcome {
  if (health.state !== 'draining') return { kind: 'next' };
  const limit = drainLimitSeconds(delaySeconds, maxSeconds);
  if (elapsedSeconds >= limit) {
    return {
      kind: 'next',
      warning: `target still draining after ${Math.round(elapsedSeconds)}s (deregistration delay ${delaySeconds}s, bound ${maxSeconds}s): went on with the drain`,
    };
  }
  const first = waitUntil(elapsedSeconds, firstDrainedCheckSeconds(delaySeconds, maxSeconds), maxRetrySeconds);
  const delay = first ?? boundedDelay(Math.min(checkEverySeconds, limit - elapsedSeconds), maxRetrySeconds);
  return { kind: 'wait', reason: 'target is draining', delaySeconds: delay };
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
