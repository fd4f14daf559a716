import { conditionHolds, deployedEnvironment, type TemplateView } from '../../../lib/config/packaged-environment';

const template: TemplateView = {
  region: 'eu-west-1',
  parameters: { StorageGroupName: { Default: 'pydio-storage' }, Empty: { Default: '' } },
  conditions: { HasStorageGroup: { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'StorageGroupName' }, ''] }] }, Both: { 'Fn::And': [{ Condition: 'HasStorageGroup' }, { 'Fn::Equals': [{ Ref: 'Empty' }, ''] }] } },
  resources: {
    NotificationsTopic: { Type: 'AWS::SNS::Topic', Properties: { TopicName: 'pydio-autoscaler-dev-notifications' } },
    LifecycleQueue: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'pydio-autoscaler-dev-lifecycle' } },
    MountVolumesDocument: { Type: 'AWS::SSM::Document', Properties: { Name: 'pydio-autoscaler-dev-mount-volumes' } },
    AgentConfig: { Type: 'AWS::SSM::Parameter', Properties: { Name: 'AmazonCloudWatch-pydio-autoscaler-dev-storage' } },
    Table: { Type: 'AWS::DynamoDB::Table', Properties: { TableName: { 'Fn::Sub': 'x' } } },
  },
};

describe('deployedEnvironment: each value as it will be once deployed', () => {
  it('resolves the intrinsics the functions\' environments use', () => {
    expect(deployedEnvironment(template, {
      STAGE: 'dev',
      PORT: 80,
      TOPIC_ARN: { Ref: 'NotificationsTopic' },
      QUEUE_URL: { Ref: 'LifecycleQueue' },
      DOC: { Ref: 'MountVolumesDocument' },
      AGENT: { Ref: 'AgentConfig' },
      TABLE: { Ref: 'Table' },
      GROUP: { Ref: 'StorageGroupName' },
      QUEUE_ARN: { 'Fn::GetAtt': ['LifecycleQueue', 'Arn'] },
      ALARM: { 'Fn::If': ['HasStorageGroup', 'disk-alarm', ''] },
      BOTH: { 'Fn::If': ['Both', 'yes', 'no'] },
    })).toEqual({
      STAGE: 'dev',
      PORT: '80',
      TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:pydio-autoscaler-dev-notifications',
      QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/pydio-autoscaler-dev-lifecycle',
      DOC: 'pydio-autoscaler-dev-mount-volumes',
      AGENT: 'AmazonCloudWatch-pydio-autoscaler-dev-storage',
      TABLE: 'Table',
      GROUP: 'pydio-storage',
      QUEUE_ARN: 'arn:aws:sqs:eu-west-1:123456789012:LifecycleQueue',
      ALARM: 'disk-alarm',
      BOTH: 'yes',
    });
  });

  it('refuses a condition it does not understand rather than guess', () => {
    expect(() => conditionHolds(template, { 'Fn::Contains': [] })).toThrow(/not understood/);
  });
});
