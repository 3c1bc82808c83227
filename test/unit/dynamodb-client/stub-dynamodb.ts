import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the stub received it. */
export interface StubRequest {
  target: string;
  body: unknown;
}

/**
 * An HTTP server on loopback answering DynamoDB's JSON protocol with whatever the test sets: both the
 * SDK's client and ours are pointed at it, so what each sends and how each reads the same answer can be
 * compared byte for byte, without a DynamoDB behind it (DynamoDB Local's answers are compared in
 * test/integration/dynamodb-client-differential.test.ts).
 */
export async function startStubDynamoDb(): Promise<{
  endpoint: string;
  requests: StubRequest[];
  answer(status: number, body: unknown): void;
  close(): Promise<void>;
}> {
  const requests: StubRequest[] = [];
  let next = { status: 200, body: '{}' };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      requests.push({
        target: String(req.headers['x-amz-target']),
        body: text === '' ? {} : JSON.parse(text),
      });
      res.writeHead(next.status, {
        'content-type': 'application/x-amz-json-1.0',
        'x-amzn-requestid': `req-${requests.length}`,
      });
      res.end(next.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    answer(status, body) {
      next = { status, body: JSON.stringify(body) };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
