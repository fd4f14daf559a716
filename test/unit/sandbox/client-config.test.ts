/**
 * The emulator's SDK clients make one attempt, so a keep-alive socket that the
 * server closes as a request is written (`read ECONNRESET`, seen in CI on a
 * DescribeTargetHealth after 5 s idle) would fail a test. Each request gets a
 * connection of its own instead.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { clientConfig } from '../../sandbox/control-plane/aws-setup';

let server: Server;
let connections = 0;
let url = '';

beforeAll(async () => {
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
    res.end('{"QueueUrls":[]}');
  });
  server.on('connection', () => {
    connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

test('a client made from clientConfig opens a new connection for every request and makes one attempt', async () => {
  const config = clientConfig(url);
  expect(config.maxAttempts).toBe(1);
  const sqs = new SQSClient(config);
  const before = connections;
  for (let i = 0; i < 3; i += 1) await expect(sqs.send(new ListQueuesCommand({}))).resolves.toBeDefined();
  expect(connections - before).toBe(3);
  sqs.destroy();
});
