/** A complete watch environment (storage tier included), for the parser's tests. */
export const WATCH_ENV: Readonly<Record<string, string>> = {
  STAGE: 'test',
  COMPUTE_ASG_NAME: 'pydio-compute',
  STORAGE_ASG_NAME: 'pydio-storage',
  TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:ops',
  TARGET_GROUP_ARN: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/pydio/0123456789abcdef',
  COORDINATION_TABLE: 'pydio-autoscaler-test-coordination',
  LIFECYCLE_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/lifecycle',
  STORAGE_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/storage',
};
