/**
 * The README's "In chat" example, generated from the code so it cannot drift:
 * one notice (a scale-out that failed at mount-volumes) as e-mail receives it
 * (the `default` text) and as AWS Chatbot receives it (the `https` entry), for
 * a lifecycle function in eu-west-1. A unit test checks README.md holds both.
 *
 *   npx tsx test/unit/core/chat-sample.ts   # prints the two blocks
 */
import { structuredMessage } from '../../../lib/aws/sns';
import { startFlow } from '../../../lib/core/compute-flow';
import type { NoticeContext } from '../../../lib/core/console-links';
import { flowFailed } from '../../../lib/core/messages';

const CONTEXT: NoticeContext = {
  location: { partition: 'aws', region: 'eu-west-1', account: '123456789012' },
  computeGroupName: 'pydio-compute',
  storageGroupName: 'pydio-storage',
  targetGroupArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/pydio-web/0123456789abcdef',
  logGroupName: '/aws/lambda/pydio-autoscaler-prod-lifecycle',
  logStreamName: '2026/11/21/[$LATEST]5d1c8f3e0a7b4c2f9e6d1a3b5c7d9e0f',
};

/** The e-mail block and the Chatbot JSON block, as the README shows them. */
export function chatSampleBlocks(): { email: string; chatbot: string } {
  const t0 = new Date('2026-11-21T10:00:00Z');
  const state = startFlow(
    { kind: 'lifecycle', transition: 'launch', groupName: 'pydio-compute', hookName: 'pydio-autoscaler-prod-compute-launch', instanceId: 'i-0123456789abcdef0', token: '6f1f1cbb-8a39-4b5c-b4a5-0c0a4c5b1a2d', time: '2026-11-21T10:00:00Z' },
    'message-1', 900, t0,
  );
  const notice = flowFailed('prod', { ...state, step: 'mount-volumes' }, 'pydio-autoscaler-prod-mount-volumes failed with exit code 32', 'stderr:\nmount: /mnt/pydio-data: mount(2) system call failed: No route to host.', 'ABANDON', new Date(t0.getTime() + 65_000));
  const attributes = { ...notice.attributes, eventType: notice.eventType, severity: notice.severity };
  const message = structuredMessage(notice, notice.subject, CONTEXT, attributes);
  return {
    email: ['```text', `Subject: ${notice.subject}`, '', message.default, '```'].join('\n'),
    chatbot: ['```json', JSON.stringify(JSON.parse(message.https), null, 2), '```'].join('\n'),
  };
}

if (require.main === module) {
  const { email, chatbot } = chatSampleBlocks();
  process.stdout.write(`${email}\n\n${chatbot}\n`);
}
