/**
 * The README's "Checks at package time" example, generated from the rules so
 * it cannot drift: what `sls package --stage prod` prints for a prod stage
 * with two parameters that cannot work. A unit test checks README.md holds it.
 *
 *   npx tsx test/unit/config/package-check-sample.ts
 */
import { checkStage, formatProblems } from '../../../lib/config/stage-params';
import { packagedStage } from './stage-fixture';

export const SAMPLE_PARAMS = {
  computeGroupName: 'pydio-compute',
  targetGroupArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/pydio-web/0123456789abcdef',
  storageGroupName: 'pydio-storage',
  launchHeartbeatTimeout: '20',
  appSessionCookie: 'PHPSESSID',
};

export function packageCheckSample(): string {
  return formatProblems('prod', checkStage(packagedStage(SAMPLE_PARAMS, 'prod')).problems);
}

if (require.main === module) process.stdout.write(`${packageCheckSample()}\n`);
