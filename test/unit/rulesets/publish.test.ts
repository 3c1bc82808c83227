import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InMemoryRuleSetStore } from '#lib/adapters/memory/memory-ruleset-store.js';
import { loadRuleSetDirectory, RuleSetError, ruleSetVersion } from '#lib/rules/ruleset-loader.js';
import { LiveRuleSets } from '#lib/rulesets/live-rule-sets.js';
import { RuleSetPublishError, RuleSetPublisher } from '#lib/rulesets/publish.js';

const DEFAULT_TEXT = readFileSync('rulesets/default.yaml', 'utf8');
/** The bundled default, re-declared for world w1 with a tighter VaR limit. */
const W1_TEXT = DEFAULT_TEXT.replace('world: default', 'world: w1').replace('limit: 0.025', 'limit: 0.03');
const W1_TEXT_2 = W1_TEXT.replace('limit: 0.03\n', 'limit: 0.028\n');

function setup() {
  const store = new InMemoryRuleSetStore();
  const bundled = loadRuleSetDirectory('rulesets');
  let now = Date.parse('2026-12-01T10:00:00Z');
  const live = new LiveRuleSets(store, bundled, { ttlMs: 30_000, clock: () => now });
  const publisher = new RuleSetPublisher({ store, bundled: live, auditRetentionDays: 10 });
  return {
    store,
    live,
    publisher,
    advance: (ms: number) => {
      now += ms;
    },
    now: () => now,
  };
}

describe('RuleSetPublisher', () => {
  it('publishes a valid set as the next revision, audited with before (the bundled default) and after', async () => {
    const t = setup();
    const out = await t.publisher.publish({
      world: 'w1',
      text: W1_TEXT,
      source: 'w1.yaml',
      actor: 'alice',
      nowMs: t.now(),
      reason: 'tighter VaR',
    });
    expect(out).toMatchObject({ status: 'published', revision: 1, version: ruleSetVersion(W1_TEXT) });
    // w1 had no bundled set of its own: the default governed it, and the audit says the store had nothing.
    const [first] = t.store.audit();
    expect(first).toMatchObject({
      kind: 'ops_action',
      action: 'ruleset_publish',
      actor: 'alice',
      reason: 'tighter VaR',
      before: null,
      after: { version: ruleSetVersion(W1_TEXT), revision: 1, source: 'w1.yaml' },
    });
    const second = await t.publisher.publish({
      world: 'w1',
      text: W1_TEXT_2,
      source: 'w1.yaml',
      actor: 'bob',
      nowMs: t.now() + 1000,
    });
    expect(second).toMatchObject({ status: 'published', revision: 2 });
    expect(t.store.audit()[1]).toMatchObject({
      before: { version: ruleSetVersion(W1_TEXT), revision: 1 },
      after: { version: ruleSetVersion(W1_TEXT_2), revision: 2 },
    });
  });

  it('names the bundled set as the before of a world that has one', async () => {
    const t = setup();
    const text = DEFAULT_TEXT.replace('limit: 0.025', 'limit: 0.03');
    await t.publisher.publish({
      world: 'default',
      text,
      source: 'default.yaml',
      actor: 'alice',
      nowMs: t.now(),
    });
    expect(t.store.audit()[0]?.before).toEqual({
      version: ruleSetVersion(DEFAULT_TEXT),
      revision: 0,
      source: 'bundled default.yaml',
    });
  });

  it('refuses an invalid set with the validator messages, and a set for another world, publishing nothing', async () => {
    const t = setup();
    const bad = W1_TEXT.replace('confidence: 0.99', 'confidence: 1.5');
    const err = await t.publisher
      .publish({ world: 'w1', text: bad, source: 'w1.yaml', actor: 'a', nowMs: t.now() })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RuleSetError);
    expect((err as RuleSetError).errors.join('\n')).toMatch(/w1\.yaml: rules\[0\]\.confidence/);
    await expect(
      t.publisher.publish({ world: 'w2', text: W1_TEXT, source: 'w1.yaml', actor: 'a', nowMs: t.now() }),
    ).rejects.toThrow(/--world: w1\.yaml declares world 'w1', not 'w2'/);
    expect(await t.store.current('w1')).toBeUndefined();
    expect(t.store.audit()).toEqual([]);
  });

  it('says unchanged when the version in force is published again', async () => {
    const t = setup();
    const out = await t.publisher.publish({
      world: 'default',
      text: DEFAULT_TEXT,
      source: 'default.yaml',
      actor: 'a',
      nowMs: t.now(),
    });
    expect(out).toEqual({ status: 'unchanged', world_id: 'default', version: ruleSetVersion(DEFAULT_TEXT) });
    expect(await t.store.current('default')).toBeUndefined();
  });

  it('with --require-approval waits for a second person, who cannot be the proposer; later publishes need one too', async () => {
    const t = setup();
    const proposed = await t.publisher.publish({
      world: 'w1',
      text: W1_TEXT,
      source: 'w1.yaml',
      actor: 'arn:aws:sts::111122223333:assumed-role/ops/alice-1',
      nowMs: t.now(),
      requireApproval: true,
    });
    expect(proposed.status).toBe('pending_approval');
    expect(await t.store.current('w1')).toBeUndefined();
    // Another session of the same role is the same principal.
    await expect(
      t.publisher.approve({
        world: 'w1',
        actor: 'arn:aws:sts::111122223333:assumed-role/ops/alice-2',
        nowMs: t.now(),
      }),
    ).rejects.toThrow(/actor: .* proposed this rule set; a second person must approve it/);
    const approved = await t.publisher.approve({ world: 'w1', actor: 'bob', nowMs: t.now() + 1 });
    expect(approved).toMatchObject({ status: 'published', revision: 1, version: ruleSetVersion(W1_TEXT) });
    const current = await t.store.current('w1');
    expect(current).toMatchObject({
      published_by: 'arn:aws:sts::111122223333:assumed-role/ops/alice-1',
      approved_by: 'bob',
      require_approval: true,
    });
    expect(t.store.audit().map((a) => a.action)).toEqual(['ruleset_propose', 'ruleset_approve']);
    // Sticky: the next publish of w1 needs a second person even without the flag.
    const next = await t.publisher.publish({
      world: 'w1',
      text: W1_TEXT_2,
      source: 'w1.yaml',
      actor: 'bob',
      nowMs: t.now() + 2,
    });
    expect(next.status).toBe('pending_approval');
    await expect(
      t.publisher.publish({
        world: 'w1',
        text: W1_TEXT,
        source: 'w1.yaml',
        actor: 'carol',
        nowMs: t.now() + 3,
      }),
    ).rejects.toThrow(/already has a publish waiting for approval/);
    const dropped = await t.publisher.reject({
      world: 'w1',
      actor: 'alice',
      nowMs: t.now() + 4,
      reason: 'no',
    });
    expect(dropped.version).toBe(ruleSetVersion(W1_TEXT_2));
    expect((await t.store.current('w1'))?.revision).toBe(1);
    await expect(t.publisher.approve({ world: 'w1', actor: 'x', nowMs: t.now() })).rejects.toThrow(
      RuleSetPublishError,
    );
  });

  it('refuses to approve a proposal made against a revision that has since moved', async () => {
    const t = setup();
    await t.publisher.publish({
      world: 'w1',
      text: W1_TEXT,
      source: 'w1.yaml',
      actor: 'alice',
      nowMs: t.now(),
      requireApproval: true,
    });
    // Someone publishes straight to the store meanwhile (a second CLI on an older release).
    await t.store.publish(
      {
        world_id: 'w1',
        revision: 1,
        version: 'sha256:other',
        text: W1_TEXT_2,
        source: 'w1.yaml',
        published_by: 'carol',
        published_at: '2026-12-01T10:00:01.000Z',
        require_approval: false,
      },
      { world_id: 'w1', record_id: 'x', kind: 'ops_action', recorded_at: '2026-12-01T10:00:01.000Z' },
    );
    await expect(t.publisher.approve({ world: 'w1', actor: 'bob', nowMs: t.now() })).rejects.toThrow(
      /changed while publishing \(expected revision 0\)/,
    );
  });
});

describe('LiveRuleSets: how the functions resolve a rule set', () => {
  it('uses the store over the bundled set, within the cache time, and the signal version is the published hash', async () => {
    const t = setup();
    expect((await t.live.forWorld('w1'))?.version).toBe(ruleSetVersion(DEFAULT_TEXT));
    await t.publisher.publish({ world: 'w1', text: W1_TEXT, source: 'w1.yaml', actor: 'a', nowMs: t.now() });
    // Cached: the publish is not seen before the TTL passes.
    expect((await t.live.forWorld('w1'))?.version).toBe(ruleSetVersion(DEFAULT_TEXT));
    t.advance(30_000);
    const set = await t.live.forWorld('w1');
    expect(set?.version).toBe(ruleSetVersion(W1_TEXT));
    expect(set?.source).toBe('w1.yaml (published r1)');
    expect(set?.rules[0]?.limit).toBe(0.03);
    // Other worlds still get the bundled default.
    expect((await t.live.forWorld('w2'))?.version).toBe(ruleSetVersion(DEFAULT_TEXT));
  });

  it('a published default governs worlds without a set of their own, but not a world with a bundled set', async () => {
    const t = setup();
    const text = DEFAULT_TEXT.replace('limit: 0.025', 'limit: 0.03');
    await t.publisher.publish({ world: 'default', text, source: 'default.yaml', actor: 'a', nowMs: t.now() });
    expect((await t.live.forWorld('any-world'))?.version).toBe(ruleSetVersion(text));
    expect((await t.live.forWorld('example-world'))?.world).toBe('example-world');
  });

  it('keeps the last resolved set when the store fails, and fails when it has none', async () => {
    let fail = false;
    const store = new InMemoryRuleSetStore();
    const flaky = {
      current: async (w: string) => {
        if (fail) throw new Error('throttled');
        return store.current(w);
      },
    };
    let now = 0;
    const warnings: string[] = [];
    const live = new LiveRuleSets(flaky, loadRuleSetDirectory('rulesets'), {
      ttlMs: 10,
      clock: () => now,
      onError: (m) => warnings.push(m),
    });
    expect(await live.forWorld('w1')).toBeDefined();
    fail = true;
    now = 100;
    expect((await live.forWorld('w1'))?.world).toBe('default');
    expect(warnings[0]).toMatch(/rule-set store unreadable; using the cached rule set of 'w1'/);
    await expect(live.forWorld('w9')).rejects.toThrow('throttled');
  });
});
