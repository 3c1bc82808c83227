import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildExitEngine } from '#infra/exit-engine-app.js';
import { EXIT_ENGINE_SOURCE } from '#lib/contracts/exit-signal.js';
import {
  MARKET_REEVALUATION_DETAIL_TYPE,
  marketReevaluationEvent,
} from '#lib/contracts/market-reevaluation-event.js';
import { MARKET_DATA_SOURCE } from '#lib/contracts/market-snapshot.js';
import { DEFAULT_SNAPSHOT_SOURCE } from '#lib/contracts/routes.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#lib/local/dynamodb-server.js';
import { compileEventPattern } from '#lib/local/event-pattern.js';
import { LOCAL_BUS_NAME } from '#lib/local/local-stack.js';
import { CDK_JSON_CONTEXT } from '#test/infra/synth.js';
import { usePipeline } from './support/pipeline.js';
import { putEntry } from './support/snapshots.js';

/**
 * The CDK rules and the local stack route the same events: each event below is matched against the
 * synthesized rules' patterns (with the local bus's pattern matcher) and put on a running local
 * stack, and both must send it to the same place.
 */

const HUB = 'custom.risk-hub';
type Route = 'snapshot' | 'market' | 'market-world' | 'gateway';

const market = (scope: string, source: string): PutEventsRequestEntry => {
  const time = '2025-03-10T21:00:00Z';
  return {
    EventBusName: LOCAL_BUS_NAME,
    Source: source,
    DetailType: 'market_snapshot_updated',
    Time: new Date(time),
    Detail: JSON.stringify({
      specversion: '1.0',
      id: `ce-${scope}`,
      source,
      type: 'market_snapshot_updated',
      time,
      datacontenttype: 'application/json',
      correlation_id: `market:${scope}:1`,
      data: {
        scope,
        as_of: time,
        indicators: { vix: 20, vix3m: 22 },
        event_version: 1,
        idempotency_key: `market_snapshot_updated:${scope}:1:1`,
      },
    }),
  };
};
const exitSignal = (source: string, type = 'exit_signal_emitted'): PutEventsRequestEntry => ({
  EventBusName: LOCAL_BUS_NAME,
  Source: source,
  DetailType: type,
  Detail: JSON.stringify({ id: randomUUID(), type, data: { world_id: 'nobody' } }),
});
const marketWorldRequest = (world: string, source: string): PutEventsRequestEntry => {
  const event = marketReevaluationEvent(
    {
      world_id: world,
      market_event_id: 'ce-m',
      market_scope: 'global',
      market_as_of: '2025-03-10T21:00:00Z',
    },
    Date.parse('2025-03-10T21:00:00Z'),
  );
  return {
    EventBusName: LOCAL_BUS_NAME,
    Source: source,
    DetailType: MARKET_REEVALUATION_DETAIL_TYPE,
    Detail: JSON.stringify(event),
  };
};
const snapshot = (world: string, source: string): PutEventsRequestEntry => ({
  ...putEntry({ world, version: 'v1', asOf: new Date(Date.now() - 60_000).toISOString() }, LOCAL_BUS_NAME),
  Source: source,
});

const CASES: { name: string; entry: PutEventsRequestEntry; routes: Route[] }[] = [
  { name: 'a snapshot from the configured hub', entry: snapshot('w-hub', HUB), routes: ['snapshot'] },
  { name: 'a snapshot from another source', entry: snapshot('w-other', DEFAULT_SNAPSHOT_SOURCE), routes: [] },
  { name: 'market data from any source', entry: market('scope-any', MARKET_DATA_SOURCE), routes: ['market'] },
  {
    name: 'our per-world market request',
    entry: marketWorldRequest('w-request', EXIT_ENGINE_SOURCE),
    routes: ['market-world'],
  },
  {
    name: 'a per-world market request from someone else',
    entry: marketWorldRequest('w-forged', 'someone.else'),
    routes: [],
  },
  { name: 'our exit signal', entry: exitSignal(EXIT_ENGINE_SOURCE), routes: ['gateway'] },
  { name: 'an exit signal from someone else', entry: exitSignal('someone.else'), routes: [] },
  { name: 'our proposal', entry: exitSignal(EXIT_ENGINE_SOURCE, 'exit_signal_proposed'), routes: [] },
];

/** The event EventBridge would build from an entry, for matching against a pattern. */
const envelope = (e: PutEventsRequestEntry) => ({
  version: '0',
  id: 'x',
  'detail-type': e.DetailType,
  source: e.Source,
  account: '000000000000',
  time: '2025-03-10T21:00:00Z',
  region: LOCAL_REGION,
  resources: [],
  detail: JSON.parse(e.Detail ?? '{}'),
});

describe('event routes: the CDK rules and the local stack', () => {
  let doc: DynamoDBDocumentClient;
  const cdk = new Map<Route, (event: unknown) => boolean>();

  beforeAll(async () => {
    const app = new App({ context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
    const rules = Template.fromStack(buildExitEngine(app, { snapshotSource: HUB }).stateless).findResources(
      'AWS::Events::Rule',
    );
    for (const [id, rule] of Object.entries(rules)) {
      const route: Route | undefined = id.startsWith('SnapshotRule')
        ? 'snapshot'
        : id.startsWith('MarketRule')
          ? 'market'
          : id.startsWith('MarketWorldRule')
            ? 'market-world'
            : id.startsWith('Gateway')
              ? 'gateway'
              : undefined;
      if (route) cdk.set(route, compileEventPattern(rule.Properties.EventPattern));
    }
    // The suite's DynamoDB Local, which the pipeline below runs on.
    doc = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint: inject('dynamoEndpoint'),
        region: LOCAL_REGION,
        credentials: LOCAL_CREDENTIALS,
      }),
    );
  });
  afterAll(() => {
    doc?.destroy();
  });

  const p = usePipeline({ name: 'routes', snapshotSource: HUB });

  it('synthesizes one rule per route', () => {
    expect([...cdk.keys()].sort()).toEqual(['gateway', 'market', 'market-world', 'snapshot']);
  });

  it.each(CASES)('routes $name the same way', async ({ entry, routes }) => {
    const viaCdk = [...cdk].filter(([, match]) => match(envelope(entry))).map(([route]) => route);
    expect(viaCdk).toEqual(routes);

    const before = { outcomes: p.stack.outcomes.length, emitted: p.stack.emitted.length };
    const out = await p.send(entry);
    expect(out.FailedEntryCount).toBe(0);
    const detail = JSON.parse(entry.Detail ?? '{}');
    const local: Route[] = [];
    if (p.stack.outcomes.slice(before.outcomes).some((o) => o.world_id === detail.data?.world_id))
      local.push(entry.DetailType === MARKET_REEVALUATION_DETAIL_TYPE ? 'market-world' : 'snapshot');
    if (entry.DetailType === 'market_snapshot_updated') {
      const stored = await doc.send(
        new GetCommand({
          TableName: p.stack.tables.state,
          Key: { pk: `MARKET#${detail.data.scope}`, sk: 'LATEST' },
          ConsistentRead: true,
        }),
      );
      if (stored.Item) local.push('market');
    }
    if (p.stack.emitted.length > before.emitted) local.push('gateway');
    expect(local).toEqual(routes);
  });
});
