import { describe, expect, it } from 'vitest';
import { InMemoryPublisher } from '#lib/adapters/memory/memory-publisher.js';
import { InMemoryEngineStore } from '#lib/adapters/memory/memory-store.js';
import { UriRefResolver } from '#lib/adapters/refs/ref-resolver.js';
import { RiskSnapshotCloudEventSchema } from '#lib/contracts/risk-snapshot.js';
import { ExitEngine } from '#lib/engine/engine.js';
import { checkStaleWorlds } from '#lib/handlers/approval-timeout-handler.js';
import { parseRuleSet, RuleSetRegistry } from '#lib/rules/ruleset-loader.js';
import { ruleSetWarnings } from '#lib/rules/staleness-sweep.js';
import { cloudEvent } from '#test/integration/support/snapshots.js';
import { upstreamValidator } from '#test/support/upstream-schemas.js';

/**
 * Fail closed when the hub goes quiet: the every-minute sweep runs each world's snapshot-staleness
 * rules on its latest snapshot, expired or not, so a silent world gets the rule's action though no
 * event arrives. In-memory adapters (the same use case the Lambda runs; the sweep's DynamoDB path is
 * the same store port the integration tests cover).
 */

const RULES = `world: default
rules:
  - id: var_limit
    kind: var_limit
    limit: 0.5
  - id: hub_silent
    kind: staleness
    source: snapshot
    limit: 1800
    action: { type: exit }
`;

function setup() {
  const store = new InMemoryEngineStore();
  const publisher = new InMemoryPublisher();
  const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const engine = new ExitEngine({
    store,
    publisher,
    refs: new UriRefResolver({ allowFiles: false }),
    ruleSets: new RuleSetRegistry([parseRuleSet(RULES, 'test')]),
    metrics: { count: () => undefined, measure: () => undefined },
    logger: quiet,
    engineVersion: 'test',
    leaseMs: 60_000,
    signalRetentionDays: 30,
    auditRetentionDays: 30,
    marketMaxAgeMs: 900_000,
    wallClock: () => 0,
  });
  return { store, publisher, engine };
}

const T0 = Date.parse('2025-03-10T21:00:00Z');
const minutes = (m: number) => T0 + m * 60_000;

describe('freshness sweep (staleness rules on a silent hub)', () => {
  it('exits a world whose latest snapshot outlived the limit, though it expired long before', async () => {
    const { publisher, engine, store } = setup();
    const ce = RiskSnapshotCloudEventSchema.parse(
      cloudEvent({ world: 'w-quiet', version: 'v1', asOf: new Date(T0).toISOString(), ttlSec: 900 }),
    );
    const first = await engine.handleSnapshot({
      cloudEvent: ce,
      deliveryId: 'd1',
      invocationId: 'i1',
      nowMs: minutes(1),
    });
    expect(first.outcome).toBe('no_signal');

    // 20 minutes: expired (ttl 15 min) but not yet 30 minutes old: nothing to do.
    expect(
      await engine.checkStaleness({ worldId: 'w-quiet', invocationId: 's1', nowMs: minutes(20) }),
    ).toBeNull();
    // 31 minutes: the staleness rule trips on its own, without any new event.
    await checkStaleWorlds(engine, await store.listWorlds(), minutes(31), 's2');
    const [event] = publisher.exitSignals();
    expect(event).toBeDefined();
    expect(event!.data.signals.map((s) => [s.strategy_id, s.action, s.reason])).toEqual([
      ['alpha', 'exit', 'staleness_breach'],
      ['beta', 'exit', 'staleness_breach'],
      ['gamma', 'exit', 'staleness_breach'],
    ]);
    expect(event!.data.provenance).toMatchObject({ trigger: 'freshness_sweep', rules: ['hub_silent'] });
    expect(upstreamValidator().exitSignal(event)).toBe('');

    // Later sweeps on the same silent snapshot say nothing more (one episode, one signal).
    await checkStaleWorlds(engine, ['w-quiet'], minutes(32), 's3');
    await checkStaleWorlds(engine, ['w-quiet'], minutes(60), 's4');
    expect(publisher.exitSignals()).toHaveLength(1);

    // The hub comes back: the fresh snapshot clears the episode with a hold.
    const back = RiskSnapshotCloudEventSchema.parse(
      cloudEvent({ world: 'w-quiet', version: 'v2', asOf: new Date(minutes(61)).toISOString() }),
    );
    await engine.handleSnapshot({
      cloudEvent: back,
      deliveryId: 'd2',
      invocationId: 'i2',
      nowMs: minutes(62),
    });
    expect(
      publisher
        .exitSignals()
        .at(-1)!
        .data.signals.every((s) => s.action === 'hold'),
    ).toBe(true);
  });

  it('warns about a snapshot-staleness rule whose persistence a silent hub can never reach', () => {
    const set = parseRuleSet(
      RULES.replace('    action: { type: exit }\n', '    action: { type: exit }\n    persistence: 3\n'),
      'test',
    );
    expect(ruleSetWarnings(set)).toEqual([
      {
        path: 'rules[1].persistence',
        message: expect.stringMatching(/rule 'hub_silent': .*can never be reached when the hub goes quiet/),
      },
    ]);
    expect(ruleSetWarnings(parseRuleSet(RULES, 'test'))).toEqual([]);
  });
});
