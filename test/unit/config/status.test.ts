import { parseStatusConfig } from '../../../lib/config/status';

describe('parseStatusConfig', () => {
  it('needs the stage, compute group and target group', () => {
    expect(() => parseStatusConfig({ STAGE: 'test', COMPUTE_ASG_NAME: 'c' })).toThrow(/TARGET_GROUP_ARN is required/);
    expect(parseStatusConfig({ STAGE: 'test', COMPUTE_ASG_NAME: 'c', TARGET_GROUP_ARN: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/p/1' }).storageGroupName).toBe('');
  });
});
