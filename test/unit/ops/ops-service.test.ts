import { beforeEach, describe, expect, it } from 'vitest';
import { InMemoryOpsStore } from '#lib/adapters/memory/memory-ops-store.js';
import { InMemoryPublisher } from '#lib/adapters/memory/memory-publisher.js';
import type { EngineEvent } from '#lib/contracts/exit-signal.js';
import { PublishError } from '#lib/engine/errors.js';
import {
  OpsConflictError,
  OpsNotFoundError,
  OpsService,
  OpsValidationError,
  TIMEOUT_ACTOR,
} from '#lib/engine/ops.js';
import type { SignalItem, SignalPublisher } from '#lib/engine/ports.js';

/** The ops use cases on the in-memory store and publisher: decisions, deadlines, the timeout sweep, mutes. */

const T0 = Date.parse('2025-03-10T21:00:00Z');
const LEASE_MS = 30_000;
const iso = (ms: number) => new Date(ms).toISOString();
const silent = { info() {}, warn() {}, error() {} };

function proposed(id: string, over: Partial<SignalItem> = {}): SignalItem {
  return {
    signal_id: id,
    world_id: 'w1',
    strategy_id: 'a',
    action: 'reduce',
    reduction_ratio: 0.4,
    reason: 'var_limit_breach',
    status: 'proposed',
    mode: 'approval',
    emitted_at: iso(T0),
    as_of: '2025-03-10T20:59:00Z',
    snapshot_version: 'v1',
    evaluation_key: 'eval-1',
    rule_ids: ['var_99_limit'],
    severity: 'blocking',
    tags: ['rule:var_99_limit'],
    metrics: { var_99: 0.05 },
    ruleset_version: 'sha256:x',
    approval: { timeout_sec: 600, default: 'drop', four_eyes: false, deadline: iso(T0 + 600_000) },
    expires_at: 0,
    ...over,
  };
}

/** A publisher whose next `failures` calls fail as PutEvents would after its retries. */
class FlakyPublisher implements SignalPublisher {
  failures = 0;
  readonly inner = new InMemoryPublisher();
  async publish(events: readonly EngineEvent[]): Promise<void> {
    if (this.failures > 0) {
      this.failures--;
      throw new PublishError('PutEvents failed for 1 of 1 entries', [{ index: 0, errorCode: 'Throttled' }]);
    }
    await this.inner.publish(events);
  }
}

describe('OpsService', () => {
  let store: InMemoryOpsStore;
  let publisher: FlakyPublisher;
  let ops: OpsService;
  const counts = new Map<string, number>();

  beforeEach(() => {
    store = new InMemoryOpsStore();
    publisher = new FlakyPublisher();
    counts.clear();
    ops = new OpsService({
      store,
      publisher,
      logger: silent,
      metrics: {
        count: (name, value = 1) => void counts.set(name, (counts.get(name) ?? 0) + value),
        measure() {},
      },
      // The world's rule set and strategies, as the deployment's rule sets and latest snapshot give them.
      catalog: {
        ruleSet: (world) =>
          world === 'w1' ? { version: 'v1', rule_ids: ['var_99_limit'], max_mute_sec: 86_400 } : undefined,
        strategies: async (world) => (world === 'w1' ? ['alpha', 'beta'] : undefined),
      },
      engineVersion: 'test',
      leaseMs: LEASE_MS,
      auditRetentionDays: 30,
    });
  });

  const who = (actor: string, nowMs = T0 + 60_000) => ({ actor, reason: 'checked the book', nowMs });
  const published = () => publisher.inner.exitSignals();

  describe('approve', () => {
    it('approves and publishes once, recording who, when and why', async () => {
      store.putSignals([proposed('sig-1')]);
      const out = await ops.approve('sig-1', who('alice'));
      expect(out.outcome).toBe('published');
      expect(published()).toHaveLength(1);
      expect(published()[0]?.data.signals[0]?.tags).toContain('approved_by:alice');
      expect(await store.getSignal('sig-1')).toMatchObject({
        status: 'published',
        decided_by: 'alice',
        decision_reason: 'checked the book',
        published_at: iso(T0 + 60_000),
      });
      const audit = await store.listAudit('w1');
      expect(audit.map((a) => [a.action, a.actor])).toEqual([['approve', 'alice']]);
    });

    it('refuses an approval at or after the deadline; the default applies at the sweep', async () => {
      store.putSignals([proposed('sig-1')]);
      const deadline = T0 + 600_000;
      for (const nowMs of [deadline, deadline + 1]) {
        const error = await ops.approve('sig-1', who('alice', nowMs)).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(OpsConflictError);
        expect((error as Error).message).toMatch(/approval deadline passed/);
      }
      expect((await store.getSignal('sig-1'))?.status).toBe('proposed');
      expect(published()).toEqual([]);
      expect(await store.listAudit('w1')).toEqual([]);
    });

    it('with four eyes, waits for a second, different approver', async () => {
      const fourEyes = {
        timeout_sec: 600,
        default: 'drop' as const,
        four_eyes: true,
        deadline: iso(T0 + 600_000),
      };
      store.putSignals([proposed('sig-1', { approval: fourEyes })]);
      expect((await ops.approve('sig-1', who('alice'))).outcome).toBe('awaiting_second_approval');
      expect(published()).toEqual([]);
      await expect(ops.approve('sig-1', who('alice'))).rejects.toThrow(/two different approvers/);
      expect((await ops.approve('sig-1', who('bob'))).outcome).toBe('published');
      expect((await store.getSignal('sig-1'))?.approvals?.map((a) => a.actor)).toEqual(['alice', 'bob']);
      expect(published()).toHaveLength(1);
    });

    it('keeps an approval whose publish failed, and the sweep publishes it once', async () => {
      store.putSignals([proposed('sig-1')]);
      publisher.failures = 1;
      const out = await ops.approve('sig-1', who('alice'));
      expect(out.outcome).toBe('approved_publish_pending');
      // The failed publish gave its lease back, so the next sweep need not wait it out.
      expect(await store.getSignal('sig-1')).toMatchObject({ status: 'approved', publish_lease_until: 0 });
      const sweep = await ops.expireDue(T0 + 61_000);
      expect(sweep.republished).toEqual(['sig-1']);
      expect((await store.getSignal('sig-1'))?.status).toBe('published');
      expect(published().map((e) => e.id)).toEqual([(out as { event_id: string }).event_id]);
      expect((await ops.expireDue(T0 + 62_000)).republished).toEqual([]);
    });

    it('answers a retried approval of an already approved signal by finishing its publish', async () => {
      store.putSignals([proposed('sig-1')]);
      publisher.failures = 1;
      await ops.approve('sig-1', who('alice'));
      const again = await ops.approve('sig-1', who('alice', T0 + 61_000));
      expect(again.outcome).toBe('published');
      expect(published()).toHaveLength(1);
    });

    it('refuses what is not proposed, and names unknown ids and missing fields', async () => {
      store.putSignals([proposed('sig-1', { status: 'shadow', mode: 'shadow' })]);
      await expect(ops.approve('sig-1', who('alice'))).rejects.toThrow(/shadow-mode signal/);
      await expect(ops.approve('sig-nope', who('alice'))).rejects.toBeInstanceOf(OpsNotFoundError);
      await expect(ops.approve('sig-1', { ...who('alice'), reason: ' ' })).rejects.toThrow(
        new OpsValidationError('reason', 'is required and must not be empty'),
      );
    });
  });

  describe('reject', () => {
    it('closes the signal without publishing; a later approval is refused', async () => {
      store.putSignals([proposed('sig-1')]);
      expect((await ops.reject('sig-1', who('carol'))).status).toBe('rejected');
      await expect(ops.approve('sig-1', who('alice'))).rejects.toThrow(/already rejected by carol/);
      expect(published()).toEqual([]);
    });
  });

  describe('expireDue (the approval-timeout sweep)', () => {
    it("applies each overdue signal's default: emit publishes as the timeout actor, drop expires", async () => {
      const approval = (d: 'emit' | 'drop') => ({
        timeout_sec: 600,
        default: d,
        four_eyes: false,
        deadline: iso(T0 + 600_000),
      });
      store.putSignals([
        proposed('sig-emit', { approval: approval('emit') }),
        proposed('sig-drop', { approval: approval('drop'), strategy_id: 'b' }),
      ]);
      const out = await ops.expireDue(T0 + 600_000);
      expect(out).toMatchObject({ emitted: ['sig-emit'], dropped: ['sig-drop'], failed: [], pending: 0 });
      expect(await store.getSignal('sig-emit')).toMatchObject({
        status: 'published',
        decided_by: TIMEOUT_ACTOR,
      });
      expect(await store.getSignal('sig-drop')).toMatchObject({
        status: 'expired',
        decided_by: TIMEOUT_ACTOR,
      });
      expect(published().map((e) => e.data.signals[0]?.strategy_id)).toEqual(['a']);
    });

    it('drops by default a proposal without approval settings, due at its emission time', async () => {
      const { approval: _none, ...bare } = proposed('sig-1');
      store.putSignals([bare]);
      expect((await ops.expireDue(T0)).dropped).toEqual(['sig-1']);
      expect(published()).toEqual([]);
    });

    it('leaves signals before their deadline, reporting how many wait and the oldest age', async () => {
      store.putSignals([
        proposed('sig-1'),
        proposed('sig-2', { emitted_at: iso(T0 + 30_000), strategy_id: 'b' }),
      ]);
      const out = await ops.expireDue(T0 + 599_999);
      expect(out).toMatchObject({ emitted: [], dropped: [], pending: 2, oldest_pending_age_sec: 600 });
      expect((await store.getSignal('sig-1'))?.status).toBe('proposed');
    });

    it('does not publish an approved signal while its approver holds the publish lease', async () => {
      store.putSignals([proposed('sig-1')]);
      const event = {
        id: 'evt-1',
        type: 'exit_signal_emitted',
        data: { signals: [] },
      } as unknown as EngineEvent;
      // Approved with its event; the approver is publishing it until T0 + LEASE_MS.
      await store.transitionSignal({
        signal_id: 'sig-1',
        from: 'proposed',
        set: {
          status: 'approved',
          event_id: 'evt-1',
          approved_event: event,
          publish_lease_until: T0 + LEASE_MS,
        },
      });
      expect((await ops.expireDue(T0 + LEASE_MS)).republished).toEqual([]);
      expect(published()).toEqual([]);
      expect((await ops.expireDue(T0 + LEASE_MS + 1)).republished).toEqual(['sig-1']);
      expect(published().map((e) => e.id)).toEqual(['evt-1']);
    });
  });

  describe('mute and unmute', () => {
    const req = { world: 'w1', rule: 'var_99_limit', reason: 'maintenance', actor: 'ops', nowMs: T0 };

    it('creates a mute once for the same request, and only one ending in the future', async () => {
      const first = await ops.mute({ ...req, until: iso(T0 + 3_600_000) });
      const again = await ops.mute({ ...req, until: iso(T0 + 3_600_000) });
      expect([first.created, again.created]).toEqual([true, false]);
      expect(again.mute.mute_id).toBe(first.mute.mute_id);
      await expect(ops.mute({ ...req, until: iso(T0) })).rejects.toThrow(/^until: .* is not in the future/);
      expect((await ops.listMutes('w1', T0)).map((m) => m.state)).toEqual(['active']);
    });

    it('refuses a mute until a date that does not exist, rather than rolling it over to the next month', async () => {
      await expect(ops.mute({ ...req, until: '2031-02-30T00:00:00Z' })).rejects.toThrow(
        /^until: '2031-02-30T00:00:00Z' is not a real date: 2031-02 has no day 30/,
      );
      expect(await ops.listMutes('w1', T0, true)).toEqual([]);
    });

    it('ends an active mute once; an ended or expired one is a conflict', async () => {
      const { mute } = await ops.mute({ ...req, until: iso(T0 + 3_600_000) });
      const ended = await ops.unmute({
        world: 'w1',
        muteId: mute.mute_id,
        actor: 'bob',
        reason: 'done',
        nowMs: T0 + 1,
      });
      expect(ended.map((m) => m.ended_by)).toEqual(['bob']);
      await expect(
        ops.unmute({ world: 'w1', muteId: mute.mute_id, actor: 'bob', reason: 'done', nowMs: T0 + 2 }),
      ).rejects.toThrow(/already ended by bob/);
      const late = await ops.mute({ ...req, reason: 'other', until: iso(T0 + 60_000) });
      await expect(
        ops.unmute({
          world: 'w1',
          muteId: late.mute.mute_id,
          actor: 'bob',
          reason: 'done',
          nowMs: T0 + 60_000,
        }),
      ).rejects.toThrow(/expired by itself/);
      expect((await ops.listMutes('w1', T0 + 60_000, true)).map((m) => m.state).sort()).toEqual([
        'ended',
        'expired',
      ]);
    });
  });
});
