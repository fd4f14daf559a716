import { isExternalEndpoint } from '../../sandbox/stack/deploy';

describe('isExternalEndpoint: subscriptions the emulator does not create (moto would POST off this machine)', () => {
  it.each([
    ['https', 'https://global.sns-api.chatbot.amazonaws.com', true],
    ['http', 'http://hooks.example.org/x', true],
    ['https', 'not a url', true],
    ['http', 'http://127.0.0.1:8080/hook', false],
    ['https', 'https://localhost/hook', false],
    ['sqs', 'arn:aws:sqs:eu-west-1:123456789012:q', false],
    ['email', 'ops@example.org', false],
  ] as const)('%s %s -> %s', (protocol, endpoint, expected) => {
    expect(isExternalEndpoint(protocol, endpoint)).toBe(expected);
  });
});
