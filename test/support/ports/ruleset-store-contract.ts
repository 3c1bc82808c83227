import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditRecord } from '#lib/engine/ports.js';
import type { PendingRuleSet, RuleSetStore, StoredRuleSet } from '#lib/rulesets/store.js';

/**
 * One behavioural suite for the RuleSetStore port, run against every implementation (in memory in
 * the unit tier, DynamoDB Local in the integration tier). Each condition (the optimistic revision,
 * one pending proposal, consuming the proposal it names, the audit record with the change) has a
 * refusal case.
 */
export interface RuleSetStoreSubject {
  store: RuleSetStore;
  /** The audit records the store wrote, oldest first. */
  audit(): Promise<AuditRecord[]>;
  close?(): Promise<void>;
}

const W = 'w1';

function rev(revision: number, over: Partial<StoredRuleSet> = {}): StoredRuleSet {
  return {
    world_id: W,
    revision,
    version: `sha256:v${revision}`,
    text: `world: ${W}\n# r${revision}\n`,
    source: 'w1.yaml',
    published_by: 'alice',
    published_at: `2026-12-01T10:0${revision}:00.000Z`,
    require_approval: false,
    ...over,
  };
}

function proposal(id: string, over: Partial<PendingRuleSet> = {}): PendingRuleSet {
  return {
    world_id: W,
    proposal_id: id,
    base_revision: 1,
    version: 'sha256:p',
    text: 'world: w1\n',
    source: 'w1.yaml',
    proposed_by: 'alice',
    proposed_at: '2026-12-01T11:00:00.000Z',
    require_approval: true,
    ...over,
  };
}

const audit = (id: string): AuditRecord => ({
  world_id: W,
  record_id: id,
  kind: 'ops_action',
  recorded_at: '2026-12-01T10:00:00.000Z',
  action: 'ruleset_publish',
});

export function ruleSetStoreContract(name: string, make: () => Promise<RuleSetStoreSubject>): void {
  describe(`RuleSetStore contract: ${name}`, () => {
    let s: RuleSetStoreSubject;
    beforeEach(async () => {
      s = await make();
    });
    afterEach(async () => {
      await s.close?.();
    });

    it('has nothing for a world never published', async () => {
      expect(await s.store.current(W)).toBeUndefined();
      expect(await s.store.history(W)).toEqual([]);
      expect(await s.store.pending(W)).toBeUndefined();
    });

    it('publishes revisions in order, keeps each in the history (newest first) with its audit record', async () => {
      expect(await s.store.publish(rev(1), audit('a1'))).toBe(true);
      expect(await s.store.publish(rev(2, { published_by: 'bob' }), audit('a2'))).toBe(true);
      expect(await s.store.current(W)).toEqual(rev(2, { published_by: 'bob' }));
      expect((await s.store.history(W)).map((r) => r.revision)).toEqual([2, 1]);
      expect((await s.store.history(W, 1)).map((r) => r.revision)).toEqual([2]);
      expect((await s.audit()).map((a) => a.record_id)).toEqual(['a1', 'a2']);
      expect(await s.store.current('other')).toBeUndefined();
    });

    it('refuses a publish that does not follow the current revision (a concurrent publish won), writing nothing', async () => {
      expect(await s.store.publish(rev(2), audit('skip'))).toBe(false);
      expect(await s.store.publish(rev(1), audit('a1'))).toBe(true);
      expect(await s.store.publish(rev(1, { version: 'sha256:other' }), audit('again'))).toBe(false);
      expect(await s.store.publish(rev(3), audit('gap'))).toBe(false);
      expect((await s.store.current(W))?.version).toBe('sha256:v1');
      expect((await s.store.history(W)).length).toBe(1);
      expect((await s.audit()).map((a) => a.record_id)).toEqual(['a1']);
    });

    it('keeps one pending proposal per world; a publish naming it consumes it', async () => {
      await s.store.publish(rev(1), audit('a1'));
      expect(await s.store.propose(proposal('p1'), audit('p1'))).toBe(true);
      expect(await s.store.propose(proposal('p2'), audit('p2'))).toBe(false);
      expect((await s.store.pending(W))?.proposal_id).toBe('p1');
      // Naming another proposal changes nothing.
      expect(await s.store.publish(rev(2), audit('wrong'), 'p2')).toBe(false);
      expect((await s.store.current(W))?.revision).toBe(1);
      expect(await s.store.publish(rev(2, { approved_by: 'bob' }), audit('a2'), 'p1')).toBe(true);
      expect(await s.store.pending(W)).toBeUndefined();
      expect((await s.store.current(W))?.approved_by).toBe('bob');
      expect((await s.audit()).map((a) => a.record_id)).toEqual(['a1', 'p1', 'a2']);
    });

    it('withdraws only the pending proposal it names', async () => {
      expect(await s.store.propose(proposal('p1', { base_revision: 0 }), audit('p1'))).toBe(true);
      expect(await s.store.withdraw(W, 'p2', audit('w2'))).toBe(false);
      expect(await s.store.withdraw(W, 'p1', audit('w1'))).toBe(true);
      expect(await s.store.pending(W)).toBeUndefined();
      expect(await s.store.withdraw(W, 'p1', audit('w1-again'))).toBe(false);
      expect((await s.audit()).map((a) => a.record_id)).toEqual(['p1', 'w1']);
    });
  });
}
