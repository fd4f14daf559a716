import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import { createLogReader } from '../../../lib/aws/logs';
import { AwsCallError } from '../../../lib/errors';
import { awsError } from './helpers';

const logsMock = mockClient(CloudWatchLogsClient);
const reader = () => createLogReader(new CloudWatchLogsClient({ region: 'eu-west-1' }));
const search = { logGroupName: '/aws/lambda/pydio-autoscaler-prod-alarm', startTime: 1_000, filterPattern: '"scaling decision"', maxEvents: 100 };

beforeEach(() => logsMock.reset());

it('reads every page: an empty page with a nextToken does not end the search, a page without one does', async () => {
  // Prepare: the service may answer an empty or partly full page while more follow
  logsMock
    .on(FilterLogEventsCommand)
    .resolvesOnce({ events: [], nextToken: 't1' })
    .resolvesOnce({ events: [{ timestamp: 2_000, message: 'a' }], nextToken: 't2' })
    .resolvesOnce({ events: [{ timestamp: 3_000, message: 'b' }] });
  // Act
  const result = await reader().search(search);
  // Assess
  expect(result).toEqual({ found: true, truncated: false, events: [{ timestamp: 2_000, message: 'a' }, { timestamp: 3_000, message: 'b' }] });
  const inputs = logsMock.commandCalls(FilterLogEventsCommand).map((c) => c.args[0].input);
  expect(inputs.map((i) => i.nextToken)).toEqual([undefined, 't1', 't2']);
  expect(inputs[0]).toEqual({ logGroupName: search.logGroupName, startTime: 1_000, filterPattern: '"scaling decision"', limit: 100 });
});

it('stops at maxEvents and says more matched', async () => {
  logsMock.on(FilterLogEventsCommand).resolves({ events: [{ timestamp: 1, message: 'x' }, { timestamp: 2, message: 'y' }], nextToken: 'more' });
  const result = await reader().search({ ...search, maxEvents: 3 });
  expect(result).toEqual({ found: true, truncated: true, events: [{ timestamp: 1, message: 'x' }, { timestamp: 2, message: 'y' }, { timestamp: 1, message: 'x' }] });
  expect(logsMock.commandCalls(FilterLogEventsCommand).map((c) => c.args[0].input.limit)).toEqual([3, 1]);
});

it('a missing log group is an answer (found: false); other errors are AwsCallErrors', async () => {
  logsMock
    .on(FilterLogEventsCommand)
    .rejectsOnce(awsError('ResourceNotFoundException', 'The specified log group does not exist.'))
    .rejectsOnce(awsError('AccessDeniedException', 'not authorized to perform: logs:FilterLogEvents'));
  await expect(reader().search(search)).resolves.toEqual({ found: false, message: 'The specified log group does not exist.' });
  await expect(reader().search(search)).rejects.toThrow(AwsCallError);
});
