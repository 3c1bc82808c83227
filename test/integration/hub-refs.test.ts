import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ExitSignalEvent } from '#lib/contracts/exit-signal.js';
import { LOCAL_BUS_NAME, type LocalStack, startLocalStack } from '#lib/local/local-stack.js';
import { type HubStub, startHubStub } from './support/hub-stub-server.js';
import { tableReader } from './support/tables.js';

const TOKEN = 'hub-token-for-tests';
/** Upstream's inline fixture (test/fixtures/upstream): the hub's expanded answer for that snapshot. */
const inline = JSON.parse(
  readFileSync('test/fixtures/upstream/stream.jsonl', 'utf8')
    .split('\n')
    .find((l) => l.includes('"world_id": "up-inline"'))!,
);

/** The same CloudEvent as the hub publishes it with its fields offloaded to Redis, for `world`. */
function offloaded(world: string, version = 'v1') {
  const data = { ...inline.data, world_id: world, version };
  delete data.covariance;
  delete data.realized_returns;
  delete data.stress;
  data.covariance_ref = `redis://risk-blobs:${version}`;
  data.realized_returns_ref = `redis://risk-blobs:${version}-realized`;
  data.stress_ref = `redis://risk-blobs:${version}-stress`;
  data.idempotency_key = `risk_snapshot_updated:${world}:${data.hash}:1`;
  return { ...inline, id: randomUUID(), data };
}

describe('redis:// refs resolved through the hub API (a local stand-in for the hub)', () => {
  let stack: LocalStack;
  let hub: HubStub;
  let client: EventBridgeClient;

  beforeAll(async () => {
    const expanded = (world: string) => ({ ...inline.data, world_id: world, version: 'v1' });
    hub = await startHubStub(
      { 'w-hub@v1': expanded('w-hub'), 'w-hub-flaky@v1': expanded('w-hub-flaky') },
      TOKEN,
    );
    stack = await startLocalStack({
      dynamoEndpoint: inject('dynamoEndpoint'),
      dynamoTransactions: inject('dynamoKind') === 'dynamodb-local',
      tablePrefix: `it-hub-${randomUUID().slice(0, 8)}-`,
      clock: 'event-time',
      hubUrl: hub.url,
      hubToken: TOKEN,
    });
    client = new EventBridgeClient({ endpoint: stack.busEndpoint, region: 'us-east-1' });
  });
  afterAll(async () => {
    client?.destroy();
    await stack?.stop();
    await hub?.stop();
  });

  const put = async (detail: unknown) => {
    const out = await client.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: LOCAL_BUS_NAME,
            Source: 'qmtl.services.worldservice',
            DetailType: 'risk_snapshot_updated',
            Detail: JSON.stringify(detail),
            Time: new Date(inline.time),
          },
        ],
      }),
    );
    expect(out.FailedEntryCount).toBe(0);
    await stack.bus.drain();
  };
  const emitted = (world: string) =>
    stack.emitted.map((e) => e.detail as ExitSignalEvent).filter((e) => e.data.world_id === world);
  const rejection = async (world: string) => {
    const read = tableReader(stack);
    const records = await read.audit(world);
    read.destroy();
    return records.find((r) => r.kind === 'rejection');
  };

  it('evaluates a snapshot whose three refs are redis://, with one bearer-token lookup', async () => {
    await put(offloaded('w-hub'));
    const asked = hub.requests.filter((r) => r.path.startsWith('/risk-hub/worlds/w-hub/'));
    expect(asked).toEqual([
      {
        path: '/risk-hub/worlds/w-hub/snapshots/lookup?version=v1&expand=true',
        authorization: `Bearer ${TOKEN}`,
      },
    ]);
    // up-inline's covariance breaches the default VaR limit: the hub's data was read and used.
    expect(emitted('w-hub')).toHaveLength(1);
    expect(emitted('w-hub')[0]!.data.signals.every((s) => s.reason === 'var_limit_breach')).toBe(true);
  });

  it('retries when the hub answers 503, then evaluates', async () => {
    hub.failNext('w-hub-flaky', 503, 2);
    await put(offloaded('w-hub-flaky'));
    expect(hub.requests.filter((r) => r.path.includes('/w-hub-flaky/')).length).toBe(3);
    expect(emitted('w-hub-flaky')).toHaveLength(1);
    expect(await rejection('w-hub-flaky')).toBeUndefined();
  });

  it('rejects, naming the field, when the hub has no such snapshot (404)', async () => {
    await put(offloaded('w-hub-missing'));
    const record = await rejection('w-hub-missing');
    expect(String((record?.reasons as string[] | undefined)?.[0])).toMatch(
      /^covariance_ref: hub lookup .* answered 404/,
    );
    expect(emitted('w-hub-missing')).toEqual([]);
  });
});

describe('the hub API with a wrong token', () => {
  it('rejects with 401 naming the field, once (not retried)', async () => {
    const hub = await startHubStub({}, 'the-right-token');
    const stack = await startLocalStack({
      dynamoEndpoint: inject('dynamoEndpoint'),
      dynamoTransactions: inject('dynamoKind') === 'dynamodb-local',
      tablePrefix: `it-hub401-${randomUUID().slice(0, 8)}-`,
      clock: 'event-time',
      hubUrl: hub.url,
      hubToken: 'a-wrong-token',
    });
    try {
      const client = new EventBridgeClient({ endpoint: stack.busEndpoint, region: 'us-east-1' });
      await client.send(
        new PutEventsCommand({
          Entries: [
            {
              EventBusName: LOCAL_BUS_NAME,
              Source: 'qmtl.services.worldservice',
              DetailType: 'risk_snapshot_updated',
              Detail: JSON.stringify(offloaded('w-hub-401')),
              Time: new Date(inline.time),
            },
          ],
        }),
      );
      client.destroy();
      await stack.bus.drain();
      expect(hub.requests).toHaveLength(1);
      const read = tableReader(stack);
      const record = (await read.audit('w-hub-401')).find((r) => r.kind === 'rejection');
      read.destroy();
      expect(String((record?.reasons as string[] | undefined)?.[0])).toMatch(
        /^covariance_ref: .* answered 401: the hub refused our token/,
      );
    } finally {
      await stack.stop();
      await hub.stop();
    }
  });
});
