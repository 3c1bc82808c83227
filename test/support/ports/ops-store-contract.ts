import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EngineEvent } from '#lib/contracts/exit-signal.js';
import type { AuditRecord, MuteRecord, OpsStore, SignalItem } from '#lib/engine/ports.js';

/**
 * One behavioural suite for the OpsStore port, run against every implementation (in memory in the
 * unit tier, DynamoDB Local in the integration tier). Each condition a decision carries (status,
 * approval count, publish lease, create once, end once) has a refusal case here.
 */

/** A fresh, empty store plus the engine-side writes the ops store reads but never makes. */
export interface OpsStoreSubject {
  store: OpsStore;
  /** The engine's outbox write of signal rows: creates, never overwrites. */
  putSignals(items: SignalItem[]): Promise<void>;
  /** An evaluation's committed outbox events. */
  putOutbox(worldId: string, evaluationKey: string, events: EngineEvent[]): Promise<void>;
  close?(): Promise<void>;
}

const W = 'w1';

/** A proposed approval-mode signal row in world `w1` (tests elsewhere build theirs from it too). */
export function signal(id: string, over: Partial<SignalItem> = {}): SignalItem {
  return {
    signal_id: id,
    world_id: W,
    strategy_id: 'a',
    action: 'reduce',
    reduction_ratio: 0.4,
    reason: 'var_limit_breach',
    status: 'proposed',
    mode: 'approval',
    emitted_at: '2025-03-10T21:00:31.000Z',
    as_of: '2025-03-10T21:00:00Z',
    snapshot_version: 'v1',
    evaluation_key: 'eval-1',
    rule_ids: ['var_99_limit'],
    severity: 'blocking',
    tags: [],
    metrics: {},
    ruleset_version: 'sha256:x',
    approval: { timeout_sec: 600, default: 'drop', four_eyes: true, deadline: '2025-03-10T21:10:31.000Z' },
    expires_at: 0,
    ...over,
  };
}

function audit(recordId: string, world = W): AuditRecord {
  return {
    world_id: world,
    record_id: recordId,
    kind: 'ops_action',
    recorded_at: '2025-03-10T21:01:00.000Z',
  };
}

function mute(id: string, world = W): MuteRecord {
  return {
    mute_id: id,
    world_id: world,
    rule_id: 'var_99_limit',
    until: '2025-03-11T00:00:00.000Z',
    reason: 'maintenance',
    actor: 'ops',
    created_at: '2025-03-10T21:00:00.000Z',
  };
}

const approval = (actor: string) => ({ actor, at: '2025-03-10T21:01:00.000Z', reason: 'ok' });

export function opsStoreContract(name: string, make: () => Promise<OpsStoreSubject>): void {
  describe(`OpsStore contract: ${name}`, () => {
    let s: OpsStoreSubject;
    beforeEach(async () => {
      s = await make();
    });
    afterEach(async () => {
      await s.close?.();
    });

    describe('signals', () => {
      it('reads a row back, and nothing for an unknown id', async () => {
        await s.putSignals([signal('sig-1')]);
        expect(await s.store.getSignal('sig-1')).toMatchObject({ signal_id: 'sig-1', status: 'proposed' });
        expect(await s.store.getSignal('sig-missing')).toBeUndefined();
      });

      it('lists newest first, by world, by status, by both, since a time, up to a limit', async () => {
        await s.putSignals([
          signal('sig-1', { emitted_at: '2025-03-10T21:00:01.000Z' }),
          signal('sig-2', { emitted_at: '2025-03-10T21:00:02.000Z', status: 'published' }),
          signal('sig-3', { emitted_at: '2025-03-10T21:00:03.000Z', world_id: 'w2' }),
        ]);
        const ids = (items: SignalItem[]) => items.map((i) => i.signal_id);
        expect(ids(await s.store.listSignals({}))).toEqual(['sig-3', 'sig-2', 'sig-1']);
        expect(ids(await s.store.listSignals({ world_id: W }))).toEqual(['sig-2', 'sig-1']);
        expect(ids(await s.store.listSignals({ status: 'proposed' }))).toEqual(['sig-3', 'sig-1']);
        expect(ids(await s.store.listSignals({ world_id: W, status: 'proposed' }))).toEqual(['sig-1']);
        expect(ids(await s.store.listSignals({ world_id: W, since: '2025-03-10T21:00:02.000Z' }))).toEqual([
          'sig-2',
        ]);
        expect(ids(await s.store.listSignals({ limit: 1 }))).toEqual(['sig-3']);
      });

      it('lists every status, across worlds and by world, through each status move', async () => {
        const statuses = [
          'proposed',
          'approved',
          'published',
          'rejected',
          'expired',
          'shadow',
          'muted',
        ] as const;
        await s.putSignals(
          statuses.flatMap((status, i) => [
            signal(`${status}-w1`, { status, emitted_at: `2025-03-10T21:00:0${i}.000Z` }),
            signal(`${status}-w2`, { status, world_id: 'w2', emitted_at: `2025-03-10T21:00:0${i}.500Z` }),
          ]),
        );
        const ids = (items: SignalItem[]) => items.map((i) => i.signal_id);
        for (const status of statuses) {
          expect(ids(await s.store.listSignals({ status }))).toEqual([`${status}-w2`, `${status}-w1`]);
          expect(ids(await s.store.listSignals({ world_id: 'w2', status }))).toEqual([`${status}-w2`]);
          expect(ids(await s.store.listSignals({ status, limit: 1 }))).toEqual([`${status}-w2`]);
          expect(
            ids(
              await s.store.listSignals({
                status,
                since: `2025-03-10T21:00:0${statuses.indexOf(status)}.100Z`,
              }),
            ),
          ).toEqual([`${status}-w2`]);
        }
        // proposed → approved → published, and proposed → rejected: each row is listed under its new status only.
        const move = (id: string, from: 'proposed' | 'approved', to: 'approved' | 'published' | 'rejected') =>
          s.store.transitionSignal({ signal_id: id, from, set: { status: to } });
        expect(await move('proposed-w1', 'proposed', 'approved')).toBe(true);
        expect(ids(await s.store.listSignals({ status: 'approved' }))).toEqual([
          'approved-w2',
          'approved-w1',
          'proposed-w1',
        ]);
        expect(await move('proposed-w1', 'approved', 'published')).toBe(true);
        expect(await move('proposed-w2', 'proposed', 'rejected')).toBe(true);
        expect(ids(await s.store.listSignals({ status: 'proposed' }))).toEqual([]);
        expect(ids(await s.store.listSignals({ status: 'approved' }))).toEqual([
          'approved-w2',
          'approved-w1',
        ]);
        expect(ids(await s.store.listSignals({ world_id: W, status: 'published' }))).toEqual([
          'published-w1',
          'proposed-w1',
        ]);
        expect(ids(await s.store.listSignals({ world_id: 'w2', status: 'rejected' }))).toEqual([
          'rejected-w2',
          'proposed-w2',
        ]);
        // A closed row moves no further: a transition from an open status is refused.
        expect(await move('proposed-w1', 'approved', 'published')).toBe(false);
        expect((await s.store.getSignal('proposed-w1'))?.status).toBe('published');
      });
    });

    describe('transitionSignal', () => {
      it('changes a row in the expected status, with its audit record', async () => {
        await s.putSignals([signal('sig-1')]);
        const ok = await s.store.transitionSignal({
          signal_id: 'sig-1',
          from: 'proposed',
          set: { status: 'rejected', decided_by: 'ops', decision_reason: 'no' },
          audit: audit('r1'),
        });
        expect(ok).toBe(true);
        expect(await s.store.getSignal('sig-1')).toMatchObject({ status: 'rejected', decided_by: 'ops' });
        expect((await s.store.listAudit(W)).map((a) => a.record_id)).toEqual(['r1']);
      });

      it('refuses, changing nothing and auditing nothing, when the row is in another status', async () => {
        await s.putSignals([signal('sig-1', { status: 'expired' })]);
        const t = { from: 'proposed' as const, set: { status: 'approved' as const }, audit: audit('r1') };
        expect(await s.store.transitionSignal({ signal_id: 'sig-1', ...t })).toBe(false);
        expect(await s.store.transitionSignal({ signal_id: 'sig-missing', ...t })).toBe(false);
        expect((await s.store.getSignal('sig-1'))?.status).toBe('expired');
        expect(await s.store.getSignal('sig-missing')).toBeUndefined();
        expect(await s.store.listAudit(W)).toEqual([]);
      });

      it('refuses a four-eyes change when another approval landed since the row was read', async () => {
        await s.putSignals([signal('sig-1')]);
        const first = (actor: string) => ({
          signal_id: 'sig-1',
          from: 'proposed' as const,
          approvals_count: 0,
          set: { approvals: [approval(actor)] },
        });
        expect(await s.store.transitionSignal(first('alice'))).toBe(true);
        expect(await s.store.transitionSignal(first('bob'))).toBe(false);
        expect((await s.store.getSignal('sig-1'))?.approvals?.map((a) => a.actor)).toEqual(['alice']);
        const second = {
          signal_id: 'sig-1',
          from: 'proposed' as const,
          approvals_count: 1,
          set: { status: 'approved' as const, approvals: [approval('alice'), approval('bob')] },
        };
        expect(await s.store.transitionSignal(second)).toBe(true);
        expect((await s.store.getSignal('sig-1'))?.status).toBe('approved');
      });

      it('takes the publish lease only once it has run out', async () => {
        await s.putSignals([signal('sig-1', { status: 'approved' })]);
        const take = (now: number) =>
          s.store.transitionSignal({
            signal_id: 'sig-1',
            from: 'approved',
            lease_free_at: now,
            set: { publish_lease_until: now + 1000 },
          });
        expect(await take(5_000)).toBe(true); // no lease yet
        expect(await take(5_999)).toBe(false); // held until 6 000
        expect(await take(6_000)).toBe(false);
        expect(await take(6_001)).toBe(true);
        expect((await s.store.getSignal('sig-1'))?.publish_lease_until).toBe(7_001);
      });

      it('keeps a decision when the engine retries its outbox and writes the row again', async () => {
        await s.putSignals([signal('sig-1')]);
        await s.store.transitionSignal({
          signal_id: 'sig-1',
          from: 'proposed',
          set: { status: 'approved', decided_by: 'ops' },
        });
        await s.putSignals([signal('sig-1')]);
        expect(await s.store.getSignal('sig-1')).toMatchObject({ status: 'approved', decided_by: 'ops' });
      });

      it('stores and returns the approved event as an event', async () => {
        await s.putSignals([signal('sig-1')]);
        const event = {
          id: 'evt-1',
          type: 'exit_signal_emitted',
          data: { world_id: W },
        } as unknown as EngineEvent;
        await s.store.transitionSignal({
          signal_id: 'sig-1',
          from: 'proposed',
          set: { status: 'approved', approved_event: event, event_id: 'evt-1' },
        });
        expect((await s.store.getSignal('sig-1'))?.approved_event).toEqual(event);
      });
    });

    describe('proposalContext', () => {
      it('reads the event version and provenance of the proposal behind a signal', async () => {
        const proposed = {
          type: 'exit_signal_proposed',
          data: { event_version: 3, provenance: { stage: 'live' }, proposals: [{ signal_id: 'sig-1' }] },
        } as unknown as EngineEvent;
        const other = {
          type: 'exit_signal_emitted',
          data: { event_version: 9, provenance: {}, signals: [] },
        } as unknown as EngineEvent;
        await s.putOutbox(W, 'eval-1', [other, proposed]);
        expect(
          await s.store.proposalContext({ world_id: W, evaluation_key: 'eval-1', signal_id: 'sig-1' }),
        ).toEqual({ event_version: 3, provenance: { stage: 'live' } });
        expect(
          await s.store.proposalContext({ world_id: W, evaluation_key: 'eval-2', signal_id: 'sig-1' }),
        ).toBeUndefined();
      });
    });

    describe('mutes', () => {
      it('creates a mute once, with its audit record; the same request again is refused', async () => {
        expect(await s.store.putMute(mute('m1'), audit('r1'))).toBe(true);
        expect(await s.store.putMute({ ...mute('m1'), reason: 'other' }, audit('r2'))).toBe(false);
        expect((await s.store.getMute(W, 'm1'))?.reason).toBe('maintenance');
        expect((await s.store.listAudit(W)).map((a) => a.record_id)).toEqual(['r1']);
      });

      it('ends a mute once; ending it again or an unknown one is refused', async () => {
        await s.store.putMute(mute('m1'), audit('r1'));
        const end = { ended_at: '2025-03-10T22:00:00.000Z', ended_by: 'bob', end_reason: 'done' };
        expect(await s.store.endMute(W, 'm1', end, audit('r2'))).toBe(true);
        expect(await s.store.endMute(W, 'm1', { ...end, ended_by: 'carol' }, audit('r3'))).toBe(false);
        expect(await s.store.endMute(W, 'm-missing', end, audit('r4'))).toBe(false);
        expect(await s.store.getMute(W, 'm1')).toMatchObject({ ended_by: 'bob', end_reason: 'done' });
        expect(await s.store.getMute(W, 'm-missing')).toBeUndefined();
        expect((await s.store.listAudit(W)).map((a) => a.record_id)).toEqual(['r1', 'r2']);
      });

      it('lists the mutes of a world, or of every world', async () => {
        await s.store.putMute(mute('m1'), audit('r1'));
        await s.store.putMute(mute('m2', 'w2'), audit('r1', 'w2'));
        expect((await s.store.listMutes(W)).map((m) => m.mute_id)).toEqual(['m1']);
        expect((await s.store.listMutes()).map((m) => m.mute_id).sort()).toEqual(['m1', 'm2']);
        expect(await s.store.listMutes(W)).toEqual([mute('m1')]);
      });
    });

    describe('audit', () => {
      it('appends once per record id and lists a world oldest first, from `since`, up to a limit', async () => {
        await s.store.appendAudit({ ...audit('2025-03-10T21:00:02Z#b'), note: 'first' });
        await s.store.appendAudit(audit('2025-03-10T21:00:01Z#a'));
        await s.store.appendAudit({ ...audit('2025-03-10T21:00:02Z#b'), note: 'second' });
        await s.store.appendAudit(audit('2025-03-10T21:00:03Z#c', 'w2'));
        const list = await s.store.listAudit(W);
        expect(list.map((a) => [a.record_id, a.note])).toEqual([
          ['2025-03-10T21:00:01Z#a', undefined],
          ['2025-03-10T21:00:02Z#b', 'first'],
        ]);
        expect((await s.store.listAudit(W, '2025-03-10T21:00:02Z')).map((a) => a.record_id)).toEqual([
          '2025-03-10T21:00:02Z#b',
        ]);
        expect((await s.store.listAudit(W, undefined, 1)).map((a) => a.record_id)).toEqual([
          '2025-03-10T21:00:01Z#a',
        ]);
      });
    });
  });
}
