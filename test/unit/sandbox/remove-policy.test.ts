/** DeletionPolicy as CloudFormation applies it on DeleteStack (test/sandbox/stack/remove.ts). */
import { deletionPolicyOf, RemoveError } from '../../sandbox/stack/remove';

describe('deletionPolicyOf: the DeletionPolicy attribute and its defaults', () => {
  it.each<[string, Record<string, unknown>, string]>([
    ['no attribute', { Type: 'AWS::SQS::Queue' }, 'Delete'],
    ['Delete', { Type: 'AWS::DynamoDB::Table', DeletionPolicy: 'Delete' }, 'Delete'],
    ['Retain', { Type: 'AWS::SQS::Queue', DeletionPolicy: 'Retain' }, 'Retain'],
    ['RetainExceptOnCreate (on a delete, Retain)', { Type: 'AWS::SQS::Queue', DeletionPolicy: 'RetainExceptOnCreate' }, 'Retain'],
    ['Snapshot on a DB instance', { Type: 'AWS::RDS::DBInstance', DeletionPolicy: 'Snapshot' }, 'Snapshot'],
    ['a DB instance without the attribute nor DBClusterIdentifier (default Snapshot)', { Type: 'AWS::RDS::DBInstance', Properties: { Engine: 'mysql' } }, 'Snapshot'],
    ['a DB instance of a cluster without the attribute', { Type: 'AWS::RDS::DBInstance', Properties: { DBClusterIdentifier: 'c' } }, 'Delete'],
    ['a DB cluster without the attribute', { Type: 'AWS::RDS::DBCluster' }, 'Snapshot'],
  ])('%s -> %s', (_what, spec, policy) => {
    expect(deletionPolicyOf('R', spec)).toBe(policy);
  });

  it.each<[string, Record<string, unknown>]>([
    ['Snapshot on a type that takes no snapshot', { Type: 'AWS::SQS::Queue', DeletionPolicy: 'Snapshot' }],
    ['an unknown policy', { Type: 'AWS::SQS::Queue', DeletionPolicy: 'Keep' }],
  ])('refuses %s, naming the resource', (_what, spec) => {
    expect(() => deletionPolicyOf('MyQueue', spec)).toThrow(RemoveError);
    expect(() => deletionPolicyOf('MyQueue', spec)).toThrow(/^MyQueue: /);
  });
});
