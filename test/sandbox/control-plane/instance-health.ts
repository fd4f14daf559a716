/**
 * SetInstanceHealth as Auto Scaling answers it, for the lifecycle emulation
 * (lifecycle.ts acts on it: moto 5.2.1 only stores the health and ignores
 * ShouldRespectGracePeriod). Sources: test/contracts/catalogue/autoscaling.yml.
 *
 * - InstanceId: 1-19 characters; HealthStatus: 1-32 characters (API reference),
 *   and the product's only values, Healthy or Unhealthy ("Set to Healthy to have
 *   the instance remain in service. Set to Unhealthy to have the instance be
 *   out of service"): anything else is refused.
 * - ShouldRespectGracePeriod (default true): an instance younger than the
 *   group's HealthCheckGracePeriod is refused with AWS's ValidationError ("The
 *   age of the instance (986 seconds) is less than the configured grace period
 *   of 1500 seconds"). The age counts from the instance's entry into InService
 *   (the grace period "prevents Amazon EC2 Auto Scaling from marking your newly
 *   launched instances Unhealthy ... after they enter the InService state"),
 *   never from earlier: the emulation refuses at least as long as AWS.
 * - Unhealthy on an InService instance: the group terminates it through its
 *   terminate hooks and launches a replacement (lifecycle.ts).
 */
import { ApiError, requiredParam } from './wire';

export interface HealthRequest {
  readonly instanceId: string;
  readonly status: 'Healthy' | 'Unhealthy';
  readonly respectGracePeriod: boolean;
}

function lengthRefusal(field: string, value: string, max: number): ApiError {
  return new ApiError('ValidationError', `1 validation error detected: Value '${value}' at '${field}' failed to satisfy constraint: Member must have length less than or equal to ${max}`);
}

/** The request, checked as AWS checks it (a refused one throws the ApiError AWS answers). */
export function readHealthRequest(form: URLSearchParams): HealthRequest {
  const instanceId = requiredParam(form, 'InstanceId');
  const status = requiredParam(form, 'HealthStatus');
  if (instanceId.length > 19) throw lengthRefusal('instanceId', instanceId, 19);
  if (status.length > 32) throw lengthRefusal('healthStatus', status, 32);
  if (status !== 'Healthy' && status !== 'Unhealthy') throw new ApiError('ValidationError', `HealthStatus ${status} is not valid: set Healthy or Unhealthy`);
  const respect = form.get('ShouldRespectGracePeriod');
  if (respect !== null && respect !== 'true' && respect !== 'false') throw new ApiError('ValidationError', `ShouldRespectGracePeriod must be true or false, got ${respect}`);
  return { instanceId, status, respectGracePeriod: respect !== 'false' };
}

/** AWS's refusal of an instance still within its group's grace period, or undefined. */
export function gracePeriodRefusal(ageSeconds: number, gracePeriodSeconds: number): ApiError | undefined {
  const age = Math.max(0, Math.floor(ageSeconds));
  if (gracePeriodSeconds <= 0 || age >= gracePeriodSeconds) return undefined;
  return new ApiError('ValidationError', `The age of the instance (${age} seconds) is less than the configured grace period of ${gracePeriodSeconds} seconds`);
}
