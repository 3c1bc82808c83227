import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_BUS_NAME } from '#lib/local/local-stack.js';
import { type HubStub, startHubStub } from './support/hub-stub-server.js';
import { startPipeline, usePipeline } from './support/pipeline.js';

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

/** The snapshot entry as the hub puts it on the bus. */
function entry(detail: unknown): PutEventsRequestEntry {
  return {
    EventBusName: LOCAL_BUS_NAME,
    Source: 'qmtl.services.worldservice',
    DetailType: 'risk_snapshot_updated',
    Detail: JSON.stringify(detail),
    Time: new Date(inline.time),
  };
}

describe('redis:// refs resolved through the hub API (a local stand-in for the hub)', () => {
  let hub: HubStub;

  beforeAll(async () => {
    const expanded = (world: string) => ({ ...inline.data, world_id: world, version: 'v1' });
    hub = await startHubStub(
      { 'w-hub@v1': expanded('w-hub'), 'w-hub-flaky@v1': expanded('w-hub-flaky') },
      TOKEN,
    );
  });
  afterAll(async () => {
    await hub?.stop();
  });
  // Started after the hub stand-in, stopped before it.
  const p = usePipeline(() => ({ name: 'hub', clock: 'event-time', hubUrl: hub.url, hubToken: TOKEN }));

  const put = (detail: unknown) => p.put(entry(detail));
  const emitted = (world: string) => p.emitted(world);
  const rejection = async (world: string) => (await p.read.audit(world)).find((r) => r.kind === 'rejection');

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
    const p = await startPipeline({
      name: 'hub401',
      clock: 'event-time',
      hubUrl: hub.url,
      hubToken: 'a-wrong-token',
    });
    try {
      await p.send(entry(offloaded('w-hub-401')));
      expect(hub.requests).toHaveLength(1);
      const record = (await p.read.audit('w-hub-401')).find((r) => r.kind === 'rejection');
      expect(String((record?.reasons as string[] | undefined)?.[0])).toMatch(
        /^covariance_ref: .* answered 401: the hub refused our token/,
      );
    } finally {
      await p.stop();
      await hub.stop();
    }
  });
});
