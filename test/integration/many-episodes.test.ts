import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoDbEngineStore } from '#lib/adapters/dynamodb/engine-store.js';
import { EPISODE_LOCK_SK } from '#lib/adapters/dynamodb/episode-log.js';
import type { ExitSignalProposedEvent } from '#lib/contracts/exit-signal.js';
import type { EventBridgeEvent } from '#lib/local/bus/put-events.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION, localDocumentClient } from '#lib/local/dynamodb-server.js';
import { LOCAL_BUS_NAME } from '#lib/local/local-stack.js';
import { parseRuleSet, RuleSetRegistry } from '#lib/rules/ruleset-loader.js';
import { upstreamValidator } from '#test/support/upstream-schemas.js';
import { usePipeline } from './support/pipeline.js';
import { proposedEventValidator } from './support/proposed-schema.js';

const N = 300;
/** Approval mode: enough proposals that one exit_signal_proposed would pass 256 KB. */
const N_APPROVAL = 1_000;
const NOW_MS = Date.now();

/** A per-strategy weight cap every one of N equal weights breaches: N episodes change at once. */
const rules = (world: string, mode: 'enforce' | 'approval') => `
world: ${world}
rules:
  - id: weight_cap_per_strategy
    kind: concentration
    measure: max_weight
    scope: strategy
    limit: 0.0005
    action: { type: exit }
    mode: ${mode}
${mode === 'approval' ? '    approval: { timeout_sec: 600, default: drop }' : ''}
`;

function snapshot(world: string, version: string, n: number): Record<string, unknown> {
  const ids = Array.from({ length: n }, (_, i) => `strategy-${String(i).padStart(4, '0')}`);
  const asOf = new Date(NOW_MS - 10_000).toISOString();
  const hash = `sha256:${world}-${version}`;
  return {
    specversion: '1.0',
    id: `ce-${world}-${version}`,
    source: 'qmtl.services.worldservice',
    type: 'risk_snapshot_updated',
    time: new Date(NOW_MS).toISOString(),
    datacontenttype: 'application/json',
    correlation_id: `risk_snapshot:${world}:${hash}`,
    data: {
      world_id: world,
      as_of: asOf,
      version,
      weights: Object.fromEntries(ids.map((id) => [id, 1 / n])),
      provenance: { actor: 'risk-hub', stage: 'paper' },
      hash,
      ttl_sec: 900,
      created_at: new Date(NOW_MS).toISOString(),
      event_version: 1,
      idempotency_key: `risk_snapshot_updated:${world}:${hash}:1`,
    },
  };
}

/**
 * Faults in the DynamoDB client the engine's store uses: once `at` matches a request, that request
 * and every later one fail, as if the process had died there, until `revive()`.
 */
function faultyClient(endpoint: string) {
  const control = {
    at: undefined as ((operation: string, input: string) => boolean) | undefined,
    dead: false,
    revive() {
      this.dead = false;
      this.at = undefined;
    },
  };
  const client = localDocumentClient(endpoint).use((next) => async (call) => {
    const input = JSON.stringify(call.input);
    if (!control.dead && control.at?.(call.operation, input)) control.dead = true;
    if (control.dead) throw new Error(`simulated crash before ${call.operation}`);
    return next(call);
  });
  return { client, control };
}

describe(`${N} strategies changing episode in one evaluation (DynamoDB Local + local EventBridge)`, () => {
  let store: DynamoDbEngineStore;
  let crash: ReturnType<typeof faultyClient>['control'];
  let doc: DynamoDBDocumentClient;
  const proposedSeen: EventBridgeEvent[] = [];
  const clock = { offsetMs: 0 };
  const transactions = inject('dynamoKind') === 'dynamodb-local';

  const p = usePipeline(() => {
    const sets = ['w-many', 'w-many-crash-before', 'w-many-crash-after'].map((w) =>
      parseRuleSet(rules(w, 'enforce'), `${w}.yaml`),
    );
    sets.push(parseRuleSet(rules('w-many-approval', 'approval'), 'w-many-approval.yaml'));
    return {
      name: 'episodes',
      ruleSets: new RuleSetRegistry(sets),
      clock: 'event-time',
      maximumRetryAttempts: 0,
      overrides: (_deps, tables) => {
        // The engine's store on the pipeline's tables, over a client the test can make fail.
        const f = faultyClient(inject('dynamoEndpoint'));
        crash = f.control;
        store = new DynamoDbEngineStore(f.client, tables, transactions);
        return { store, wallClock: () => Date.now() + clock.offsetMs };
      },
    };
  });
  beforeAll(() => {
    doc = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint: p.stack.dynamoEndpoint,
        region: LOCAL_REGION,
        credentials: LOCAL_CREDENTIALS,
      }),
    );
    p.stack.bus.putRule({
      name: 'proposed-recorder',
      eventBusName: LOCAL_BUS_NAME,
      eventPattern: { 'detail-type': ['exit_signal_proposed'] },
      targets: [{ id: 'ops-tooling', invoke: async (e) => void proposedSeen.push(e) }],
    });
  });
  afterAll(() => {
    doc?.destroy();
  });

  const put = async (world: string, version = 'v1', n = N) => {
    await p.put({
      EventBusName: LOCAL_BUS_NAME,
      Source: 'qmtl.services.worldservice',
      DetailType: 'risk_snapshot_updated',
      Detail: JSON.stringify(snapshot(world, version, n)),
      Time: new Date(NOW_MS),
    });
    // On a loaded machine the invocation may pass its deadline before publishing (it then hands the
    // outbox back): the sweeper completes it, as it runs once every lease has run out.
    if (crash.dead) return;
    clock.offsetMs = 120_000;
    await p.stack.engine.sweepOutboxes({ invocationId: randomUUID(), remainingMs: () => 120_000 });
    clock.offsetMs = 0;
    await p.stack.bus.drain();
  };
  /** The same delivery again once every lease of the dead invocation has run out. */
  const redeliverLater = async (world: string) => {
    crash.revive();
    clock.offsetMs = 120_000;
    await put(world);
  };
  const emitted = (world: string) => p.emitted(world);
  const lockOf = async (world: string) =>
    (
      await doc.send(
        new GetCommand({
          TableName: p.stack.tables.state,
          Key: { pk: `WORLD#${world}`, sk: EPISODE_LOCK_SK },
          ConsistentRead: true,
        }),
      )
    ).Item ?? null;

  /** Every strategy's episode stored once, active, at `version`; the world's lock gone. */
  const expectEpisodes = async (world: string, version: number, n = N) => {
    const episodes = [...(await store.loadEpisodes(world)).values()];
    expect(episodes).toHaveLength(n);
    expect(episodes.every((e) => e.status === 'active' && e.version === version)).toBe(true);
    expect(await lockOf(world)).toBeNull();
  };

  /** One publication: every strategy once, in parts that are each under 256 KB and valid upstream. */
  const expectPublishedOnce = (world: string) => {
    const parts = emitted(world);
    expect(new Set(parts.map((p) => p.id)).size).toBe(parts.length);
    const validate = upstreamValidator();
    for (const part of parts) expect(validate.exitSignal(part)).toBe('');
    const strategies = parts.flatMap((p) => p.data.signals.map((s) => s.strategy_id));
    expect(strategies).toHaveLength(N);
    expect(new Set(strategies).size).toBe(N);
  };

  it('commits, stores and publishes once', async () => {
    await put('w-many');
    expectPublishedOnce('w-many');
    await expectEpisodes('w-many', 1);
  }, 300_000);

  it('recovers on redelivery from a crash after the episodes were staged, before the commit', async () => {
    const world = 'w-many-crash-before';
    crash.at = (operation, input) =>
      operation === (transactions ? 'TransactWriteItems' : 'UpdateItem') &&
      input.includes(EPISODE_LOCK_SK) &&
      input.includes(world);
    await put(world);
    expect(crash.dead).toBe(true);
    expect(emitted(world)).toHaveLength(0);
    // Nothing visible changed: the lock is held (uncommitted), the episodes untouched.
    expect((await lockOf(world))?.state).toBe('locked');
    await redeliverLater(world);
    expectPublishedOnce(world);
    await expectEpisodes(world, 1);
  }, 300_000);

  it('recovers on redelivery from a crash after the commit, before the episodes were rolled forward', async () => {
    const world = 'w-many-crash-after';
    crash.at = (operation, input) =>
      operation === 'PutItem' && input.includes('"sk":"EPISODE#') && input.includes(world);
    await put(world);
    expect(crash.dead).toBe(true);
    expect((await lockOf(world))?.state).toBe('committed');
    await redeliverLater(world);
    expectPublishedOnce(world);
    // Reading the episodes finishes the roll-forward; the next snapshot evaluates from them.
    await expectEpisodes(world, 1);
    await put(world, 'v2');
    expectPublishedOnce(world); // still active: no new signal, nothing published twice
    expect(p.stack.outcomes.filter((o) => o.world_id === world).at(-1)?.outcome).not.toBe('error');
  }, 300_000);

  it('splits a large exit_signal_proposed by size in approval mode, each part schema-valid', async () => {
    const world = 'w-many-approval';
    await put(world, 'v1', N_APPROVAL);
    const proposed = proposedSeen
      .map((e) => e.detail as ExitSignalProposedEvent)
      .filter((e) => e.data.world_id === world);
    const validate = proposedEventValidator();
    expect(proposed.length).toBeGreaterThan(1);
    for (const part of proposed) {
      expect(Buffer.byteLength(JSON.stringify(part))).toBeLessThan(256 * 1024);
      expect(validate(part), JSON.stringify(validate.errors)).toBe(true);
      expect(part.data.idempotency_key).toMatch(new RegExp(`:part-\\d+-of-${proposed.length}$`));
      expect(part.data.provenance?.part).toMatchObject({ count: proposed.length });
    }
    const ids = proposed.flatMap((p) => p.data.proposals.map((x) => x.strategy_id));
    expect(ids).toHaveLength(N_APPROVAL);
    expect(new Set(ids).size).toBe(N_APPROVAL);
    expect(new Set(proposed.map((p) => p.id)).size).toBe(proposed.length);
    expect(emitted(world)).toHaveLength(0);
    await expectEpisodes(world, 1, N_APPROVAL);
    // Its audit record would pass DynamoDB's 400 KB: kept with the first entries and the totals.
    const audit = await doc.send(
      new QueryCommand({
        TableName: p.stack.tables.audit,
        KeyConditionExpression: 'world_id = :w',
        ExpressionAttributeValues: { ':w': world },
        ConsistentRead: true,
      }),
    );
    const evaluation = (audit.Items ?? []).filter((r) => r.kind === 'evaluation');
    expect(evaluation).toHaveLength(1);
    expect(evaluation[0]).toMatchObject({ truncated: true, decisions_total: N_APPROVAL });
    expect(evaluation[0]!.decisions).toHaveLength(50);
  }, 300_000);
});
