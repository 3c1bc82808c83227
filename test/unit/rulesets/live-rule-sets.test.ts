import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InMemoryPublisher } from '#lib/adapters/memory/memory-publisher.js';
import { InMemoryRuleSetStore } from '#lib/adapters/memory/memory-ruleset-store.js';
import { InMemoryEngineStore } from '#lib/adapters/memory/memory-store.js';
import { RiskSnapshotCloudEventSchema } from '#lib/contracts/risk-snapshot.js';
import { ExitEngine } from '#lib/engine/engine.js';
import { loadRuleSetDirectory, ruleSetVersion } from '#lib/rules/ruleset-loader.js';
import { LiveRuleSets, RULE_SET_CACHE_WORLDS } from '#lib/rulesets/live-rule-sets.js';
import { RuleSetPublisher } from '#lib/rulesets/publish.js';
import { cloudEvent } from '#test/integration/support/snapshots.js';
import { testEngineDeps } from '#test/support/engine-deps.js';

/**
 * A warm function lives for hours and may evaluate every world: what LiveRuleSets keeps must be bounded
 * by its own bound, not by the worlds or the publishes the process has seen (the soak bench's 20 worlds
 * would never show such a leak).
 */

const DEFAULT_TEXT = readFileSync('rulesets/default.yaml', 'utf8');
const T0 = Date.parse('2026-12-01T10:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
/** The default with a VaR limit of its own, so each revision has its own content hash. */
const textWithLimit = (world: string, limit: number) =>
  DEFAULT_TEXT.replace('world: default', `world: ${world}`).replace('limit: 0.025', `limit: ${limit}`);

function setup(maxWorlds?: number) {
  const store = new InMemoryRuleSetStore();
  let now = T0;
  const live = new LiveRuleSets(store, loadRuleSetDirectory('rulesets'), {
    ttlMs: 30_000,
    clock: () => now,
    ...(maxWorlds !== undefined ? { maxWorlds } : {}),
  });
  const publisher = new RuleSetPublisher({ store, bundled: live, auditRetentionDays: 10 });
  const publish = (world: string, text: string) =>
    publisher.publish({ world, text, source: `${world}.yaml`, actor: 'a', nowMs: now });
  return {
    live,
    publish,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('LiveRuleSets: the memory a warm function keeps', () => {
  it('keeps at most maxWorlds worlds through many evaluations of distinct worlds, and re-reads a dropped one', async () => {
    const t = setup(50);
    // Every 25th world has a published set of its own; the others fall back to the bundled default.
    for (let w = 0; w < 300; w += 25) await t.publish(`w${w}`, textWithLimit(`w${w}`, 0.03));
    const store = new InMemoryEngineStore();
    const engine = new ExitEngine(
      testEngineDeps({ store, publisher: new InMemoryPublisher(), ruleSets: t.live, wallClock: () => T0 }),
    );
    const evaluate = (world: string, version: string) =>
      engine.handleSnapshot({
        cloudEvent: RiskSnapshotCloudEventSchema.parse(
          cloudEvent({ world, version, asOf: iso(T0), varLevel: 0.04 }),
        ),
        deliveryId: `d-${world}-${version}`,
        invocationId: 'i',
        nowMs: T0 + 20_000,
      });
    for (let w = 0; w < 300; w++) {
      expect((await evaluate(`w${w}`, 'v1')).outcome).toBe('published');
      expect(t.live.cachedWorlds).toBeLessThanOrEqual(50);
    }
    expect(t.live.cachedWorlds).toBe(50);
    // w0 was dropped long ago: its next evaluation reads its published set again, not the default.
    await evaluate('w0', 'v2');
    const versions = new Set(
      store
        .allSignals()
        .filter((s) => s.world_id === 'w0')
        .map((s) => s.ruleset_version),
    );
    expect(versions).toEqual(new Set([ruleSetVersion(textWithLimit('w0', 0.03))]));
  });

  it('keeps one parsed revision per world however many are published', async () => {
    const t = setup();
    for (let r = 1; r <= 40; r++) {
      const text = textWithLimit('w1', 0.03 + r / 10_000);
      await t.publish('w1', text);
      t.advance(30_000);
      const set = await t.live.forWorld('w1');
      expect(set?.version).toBe(ruleSetVersion(text));
      expect(set?.source).toBe(`w1.yaml (published r${r})`);
      expect(t.live.cachedRuleSets).toBe(1);
    }
  });

  it(`holds RULE_SET_CACHE_WORLDS (${RULE_SET_CACHE_WORLDS}) worlds by default`, async () => {
    const t = setup();
    for (let w = 0; w < RULE_SET_CACHE_WORLDS * 3; w++) await t.live.forWorld(`w${w}`);
    expect(t.live.cachedWorlds).toBe(RULE_SET_CACHE_WORLDS);
  });

  it('keeps the parsed set across TTL refreshes of the same revision', async () => {
    const t = setup();
    await t.publish('w1', textWithLimit('w1', 0.03));
    const first = await t.live.forWorld('w1');
    t.advance(30_000);
    expect(await t.live.forWorld('w1')).toBe(first);
  });
});
