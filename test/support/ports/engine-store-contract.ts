import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoredMute } from '#lib/adapters/memory/memory-store.js';
import type { EngineEvent } from '#lib/contracts/exit-signal.js';
import type { SnapshotData } from '#lib/contracts/risk-snapshot.js';
import type { EpisodeState } from '#lib/engine/episodes.js';
import { EvaluationInProgressError } from '#lib/engine/errors.js';
import type { AuditRecord, EngineStore, EvaluationCommit, SignalItem } from '#lib/engine/ports.js';
import { latestRecord } from '#lib/engine/records.js';

/**
 * One behavioural suite for the EngineStore port, run against every implementation (in memory in
 * the unit tier, DynamoDB Local in the integration tier). Each condition a write carries has a
 * refusal case here, so an adapter that drops or weakens one fails a test.
 */

/** A fresh, empty store plus the reads a test needs that the port does not offer. */
export interface EngineStoreSubject {
  store: EngineStore;
  /** Every signal row, by signal id. */
  signals(): Promise<SignalItem[]>;
  /** Every audit record, by world then record id. */
  audit(): Promise<AuditRecord[]>;
  /** Stores a mute as the ops path writes it. */
  putMute(mute: StoredMute): Promise<void>;
  /** How many snapshot bodies are stored, over all worlds. */
  snapshotBodies(): Promise<number>;
  close?(): Promise<void>;
}

const W = 'w1';
const T0 = Date.parse('2025-03-10T21:00:00Z');

function snapshot(asOfMs: number, version = `v${asOfMs}`, world = W): SnapshotData {
  const asOf = new Date(asOfMs).toISOString();
  return { world_id: world, as_of: asOf, version, weights: { a: 1 }, ttl_sec: 600 };
}

/** Advances the world's latest snapshot as the engine does: the compact record, and the snapshot. */
function advance(store: EngineStore, asOfMs: number, version = `v${asOfMs}`, world = W, data?: SnapshotData) {
  const full = data ?? snapshot(asOfMs, version, world);
  return store.advanceLatestSnapshot(
    latestRecord(full, `risk_snapshot_updated:${world}:${version}:1`, `ce-${version}`),
    full,
  );
}

function episode(version: number, status: EpisodeState['status'] = 'active'): EpisodeState {
  return { rule_id: 'var_99_limit', scope_key: 'world', status, breach_count: 1, version };
}

/** `n` per-strategy episodes of one rule, all read at `version`. */
function strategyEpisodes(
  n: number,
  version: number,
  status: EpisodeState['status'] = 'active',
): EpisodeState[] {
  return Array.from({ length: n }, (_, i) => ({
    rule_id: 'max_weight_per_strategy',
    scope_key: `strategy-${String(i).padStart(4, '0')}`,
    status,
    breach_count: 1,
    signalled_strategies: [`strategy-${String(i).padStart(4, '0')}`],
    version,
  }));
}

function audit(recordId: string, world = W): AuditRecord {
  return {
    world_id: world,
    record_id: recordId,
    kind: 'evaluation',
    recorded_at: '2025-03-10T21:00:31.000Z',
  };
}

const event = { id: 'evt-1', type: 'exit_signal_emitted' } as unknown as EngineEvent;

function signal(id: string, status: SignalItem['status'] = 'pending_publish'): SignalItem {
  return {
    signal_id: id,
    world_id: W,
    strategy_id: 'a',
    action: 'reduce',
    reduction_ratio: 0.4,
    reason: 'var_limit_breach',
    status,
    mode: 'enforce',
    emitted_at: '2025-03-10T21:00:31.000Z',
    as_of: '2025-03-10T21:00:00Z',
    snapshot_version: 'v1',
    event_id: 'evt-1',
    evaluation_key: 'k',
    rule_ids: ['var_99_limit'],
    severity: 'blocking',
    tags: [],
    metrics: {},
    ruleset_version: 'sha256:x',
    expires_at: 0,
  };
}

function commit(over: Partial<EvaluationCommit> = {}): EvaluationCommit {
  return {
    world_id: W,
    evaluation_key: 'eval-1',
    lease_owner: 'inv-1',
    publish_lease_until: T0 + 60_000,
    snapshot_as_of_ms: T0,
    outcome: 'publish',
    episodes: [episode(0)],
    audit: audit('2025-03-10T21:00:31.000Z#evaluation#d1'),
    events: [event],
    signal_items: [signal('sig-1')],
    ...over,
  };
}

/** A store with the world's latest snapshot at T0 and `eval-1` claimed by `inv-1`. */
async function claimed(store: EngineStore): Promise<EngineStore> {
  await advance(store, T0);
  await store.claimEvaluation(W, 'eval-1', 'inv-1', T0 + 60_000, T0);
  return store;
}

/**
 * `atomicCommit: false` is the dynalite fallback, which has no transactions and applies a commit's
 * writes one by one, claim last. It keeps every guarantee below but two, asserted as they are: a
 * duplicate audit record is taken for an earlier attempt of the same evaluation, and a commit that
 * lost its claim leaves its episode writes behind.
 */
export function engineStoreContract(
  name: string,
  make: () => Promise<EngineStoreSubject>,
  { atomicCommit = true }: { atomicCommit?: boolean } = {},
): void {
  describe(`EngineStore contract: ${name}`, () => {
    let s: EngineStoreSubject;
    beforeEach(async () => {
      s = await make();
    });
    afterEach(async () => {
      await s.close?.();
    });

    describe('latest snapshot', () => {
      it('moves forward only: an older as_of never wins, the same snapshot again is `same`', async () => {
        const store = s.store;
        expect(await advance(store, T0, 'v1')).toBe('advanced');
        expect(await advance(store, T0, 'v1')).toBe('same');
        expect(await advance(store, T0, 'v1-other')).toBe('older');
        expect(await advance(store, T0 - 1, 'v0')).toBe('older');
        expect((await store.getLatestSnapshot(W))?.version).toBe('v1');
        expect(await advance(store, T0 + 1, 'v2')).toBe('advanced');
        expect((await store.getLatestSnapshot(W))?.version).toBe('v2');
      });

      it('lists every world that has had a snapshot, sorted', async () => {
        const store = s.store;
        await advance(store, T0, 'v1', 'zeta');
        await advance(store, T0, 'v1', 'alpha');
        expect(await store.listWorlds()).toEqual(['alpha', 'zeta']);
      });

      it('lists each world for the market fan-out with what its latest record keeps, as that changes', async () => {
        const store = s.store;
        const keep = (world: string, asOfMs: number, kept?: 'weights' | 'positions') => {
          const data = snapshot(asOfMs, `v${asOfMs}`, world);
          return store.advanceLatestSnapshot(
            latestRecord(data, `risk_snapshot_updated:${world}:v${asOfMs}:1`, `ce-${world}-${asOfMs}`, kept),
            data,
          );
        };
        await keep('zeta', T0, 'weights');
        await keep('alpha', T0, 'positions');
        await keep('mid', T0);
        expect(await store.listWorldsForMarket()).toEqual([
          { world_id: 'alpha', body_kept: 'positions' },
          { world_id: 'mid' },
          { world_id: 'zeta', body_kept: 'weights' },
        ]);
        // The rule sets change: zeta gains a market rule, alpha loses its own, mid keeps only weights.
        await keep('zeta', T0 + 1, 'positions');
        await keep('alpha', T0 + 1);
        await keep('mid', T0 + 1, 'weights');
        // An older snapshot, stored under another rule set, changes nothing.
        expect(await keep('zeta', T0 - 1, 'weights')).toBe('older');
        expect(await store.listWorldsForMarket()).toEqual([
          { world_id: 'alpha' },
          { world_id: 'mid', body_kept: 'weights' },
          { world_id: 'zeta', body_kept: 'positions' },
        ]);
        // The other listing is unchanged: world ids only.
        expect(await store.listWorlds()).toEqual(['alpha', 'mid', 'zeta']);
      });

      it('hands out copies, so a caller cannot change what is stored', async () => {
        const store = s.store;
        await advance(store, T0, 'v1');
        const got = await store.getLatestSnapshot(W);
        const data = await store.getSnapshotData(got!);
        data!.weights.a = 0.5;
        got!.head.version = 'changed';
        const again = await store.getLatestSnapshot(W);
        expect(again?.head.version).toBe('v1');
        expect((await store.getSnapshotData(again!))?.weights.a).toBe(1);
      });

      it('keeps identity on the record and the body apart, and gives the snapshot back whole', async () => {
        const store = s.store;
        const data = {
          ...snapshot(T0, 'v1'),
          hash: 'sha256:x',
          event_version: 2,
          covariance: { 'a,a': 0.01 },
        };
        await advance(store, T0, 'v1', W, data);
        const latest = await store.getLatestSnapshot(W);
        expect(latest).toMatchObject({
          world_id: W,
          version: 'v1',
          as_of_ms: T0,
          expires_at_ms: T0 + 600_000,
          head: { world_id: W, version: 'v1', hash: 'sha256:x', event_version: 2, ttl_sec: 600 },
        });
        expect(latest).not.toHaveProperty('data');
        expect(latest?.head).not.toHaveProperty('weights');
        expect(await store.getSnapshotData(latest!)).toEqual(data);
      });

      it('stores a body once for every snapshot of the same content, and the new one when it changes', async () => {
        const store = s.store;
        const body = { weights: { a: 0.6, b: 0.4 }, realized_returns: { a: [0.01], b: [-0.02] } };
        await advance(store, T0, 'v1', W, { ...snapshot(T0, 'v1'), ...body });
        await advance(store, T0 + 1, 'v2', W, { ...snapshot(T0 + 1, 'v2'), ...body });
        expect(await s.snapshotBodies()).toBe(1);
        const latest = await store.getLatestSnapshot(W);
        expect((await store.getSnapshotData(latest!))?.version).toBe('v2');
        await advance(store, T0 + 2, 'v3', W, { ...snapshot(T0 + 2, 'v3'), ...body, weights: { a: 1 } });
        expect((await store.getSnapshotData((await store.getLatestSnapshot(W))!))?.weights).toEqual({ a: 1 });
      });

      it('never lets an older snapshot replace the body the record points at', async () => {
        const store = s.store;
        await advance(store, T0 + 1, 'v2', W, { ...snapshot(T0 + 1, 'v2'), weights: { new: 1 } });
        expect(await advance(store, T0, 'v1', W, { ...snapshot(T0, 'v1'), weights: { old: 1 } })).toBe(
          'older',
        );
        const latest = await store.getLatestSnapshot(W);
        expect((await store.getSnapshotData(latest!))?.weights).toEqual({ new: 1 });
      });

      it('keeps only the weights when told to, one body per weights, and the whole body again when not', async () => {
        const store = s.store;
        const keepWeights = (asOfMs: number, version: string, returns: number[]) => {
          const data = { ...snapshot(asOfMs, version), realized_returns: { a: returns } };
          return store.advanceLatestSnapshot(
            latestRecord(data, `risk_snapshot_updated:${W}:${version}:1`, `ce-${version}`, 'weights'),
            data,
          );
        };
        await keepWeights(T0, 'v1', [0.01]);
        await keepWeights(T0 + 1, 'v2', [0.02]);
        // Different returns, the same weights: one body serves both.
        expect(await s.snapshotBodies()).toBe(1);
        const latest = (await store.getLatestSnapshot(W))!;
        expect(latest.body_kept).toBe('weights');
        expect(await store.getSnapshotData(latest)).toBeUndefined();
        expect(await store.getSnapshotWeights(latest)).toEqual({ a: 1 });

        const whole = { ...snapshot(T0 + 2, 'v3'), realized_returns: { a: [0.03] } };
        await advance(store, T0 + 2, 'v3', W, whole);
        const now = (await store.getLatestSnapshot(W))!;
        expect(now.body_kept).toBeUndefined();
        expect(await store.getSnapshotData(now)).toEqual(whole);
        expect(await store.getSnapshotWeights(now)).toEqual({ a: 1 });
      });

      it('keeps the positions when told to: head, weights, constraints and provenance, one body per positions', async () => {
        const store = s.store;
        const keepPositions = (asOfMs: number, version: string, returns: number[]) => {
          const data = {
            ...snapshot(asOfMs, version),
            realized_returns: { a: returns },
            constraints: { adv_util_p95: 0.5 },
            provenance: { stage: 'live' },
          };
          return store
            .advanceLatestSnapshot(
              latestRecord(data, `risk_snapshot_updated:${W}:${version}:1`, `ce-${version}`, 'positions'),
              data,
            )
            .then(() => data);
        };
        await keepPositions(T0, 'v1', [0.01]);
        const second = await keepPositions(T0 + 1, 'v2', [0.02]);
        // Different returns, the same positions: one body serves both.
        expect(await s.snapshotBodies()).toBe(1);
        const latest = (await store.getLatestSnapshot(W))!;
        expect(latest.body_kept).toBe('positions');
        const { realized_returns: _dropped, ...positions } = second;
        expect(await store.getSnapshotData(latest)).toEqual(positions);
        expect(await store.getSnapshotWeights(latest)).toEqual({ a: 1 });
      });

      it('has no snapshot for a world that has had none', async () => {
        expect(await s.store.getLatestSnapshot('nobody')).toBeUndefined();
      });
    });

    describe('claims', () => {
      it('lets one invocation claim an evaluation and refuses another while the lease runs', async () => {
        const store = s.store;
        expect((await store.claimEvaluation(W, 'e', 'inv-1', T0 + 1000, T0)).claimed).toBe(true);
        expect((await store.claimEvaluation(W, 'e', 'inv-2', T0 + 2000, T0 + 1000)).claimed).toBe(false);
        expect((await store.claimEvaluation(W, 'e', 'inv-2', T0 + 3000, T0 + 1001)).claimed).toBe(true);
        expect((await store.getEvaluation(W, 'e'))?.lease_owner).toBe('inv-2');
      });

      it('releases only the owner’s claim, so a retry need not wait out the lease', async () => {
        const store = s.store;
        await store.claimEvaluation(W, 'e', 'inv-1', T0 + 60_000, T0);
        await store.releaseClaim(W, 'e', 'inv-2');
        expect((await store.claimEvaluation(W, 'e', 'inv-2', T0 + 60_000, T0 + 1)).claimed).toBe(false);
        await store.releaseClaim(W, 'e', 'inv-1');
        expect((await store.claimEvaluation(W, 'e', 'inv-2', T0 + 60_000, T0 + 1)).claimed).toBe(true);
      });

      it('never re-opens a completed evaluation', async () => {
        const store = await claimed(s.store);
        expect(await store.commitEvaluation(commit())).toBe('committed');
        expect(
          (await store.claimEvaluation(W, 'eval-1', 'inv-2', Number.MAX_SAFE_INTEGER, T0 + 10 ** 9)).claimed,
        ).toBe(false);
      });
    });

    describe('commitEvaluation', () => {
      it('commits episodes (version + 1), the audit record and the outbox together', async () => {
        const store = await claimed(s.store);
        expect(await store.commitEvaluation(commit())).toBe('committed');
        const record = await store.getEvaluation(W, 'eval-1');
        expect(record).toMatchObject({ status: 'completed', outcome: 'publish', outbox_status: 'pending' });
        expect(record?.events?.map((e) => e.id)).toEqual(['evt-1']);
        expect(record?.signal_items?.map((s) => s.signal_id)).toEqual(['sig-1']);
        expect((await store.loadEpisodes(W)).get('var_99_limit#world')?.version).toBe(1);
        expect((await s.audit()).map((a) => a.record_id)).toEqual(['2025-03-10T21:00:31.000Z#evaluation#d1']);
      });

      it('marks an evaluation without events as having nothing to publish', async () => {
        const store = await claimed(s.store);
        await store.commitEvaluation(commit({ events: [], signal_items: [], outcome: 'no_signal' }));
        const record = await store.getEvaluation(W, 'eval-1');
        expect(record?.outbox_status).toBe('none');
        expect(record?.events).toBeUndefined();
      });

      it('is a conflict, writing nothing, when an episode changed since it was read', async () => {
        const store = await claimed(s.store);
        await store.commitEvaluation(commit());
        await store.claimEvaluation(W, 'eval-2', 'inv-2', T0 + 60_000, T0);
        // Read at version 0 (absent) but now stored at 1: a concurrent evaluation won.
        const stale = commit({
          evaluation_key: 'eval-2',
          lease_owner: 'inv-2',
          audit: audit('2025-03-10T21:00:32.000Z#evaluation#d2'),
        });
        expect(await store.commitEvaluation(stale)).toBe('conflict');
        expect(await store.commitEvaluation({ ...stale, episodes: [episode(7)] })).toBe('conflict');
        expect((await store.getEvaluation(W, 'eval-2'))?.status).toBe('in_progress');
        expect(await s.audit()).toHaveLength(1);
        expect(await store.commitEvaluation({ ...stale, episodes: [episode(1, 'idle')] })).toBe('committed');
        expect((await store.loadEpisodes(W)).get('var_99_limit#world')).toMatchObject({
          status: 'idle',
          version: 2,
        });
      });

      it('commits 300 changed episodes, more than one DynamoDB transaction holds, as one', async () => {
        const store = await claimed(s.store);
        const many = strategyEpisodes(300, 0);
        expect(await store.commitEvaluation(commit({ episodes: many }))).toBe('committed');
        const loaded = await store.loadEpisodes(W);
        expect(loaded.size).toBe(300);
        expect([...loaded.values()].every((e) => e.version === 1 && e.status === 'active')).toBe(true);
        expect((await store.getEvaluation(W, 'eval-1'))?.outbox_status).toBe('pending');
        // The next evaluation changes them all again, from the versions it read.
        await store.claimEvaluation(W, 'eval-2', 'inv-2', T0 + 60_000, T0);
        const next = commit({
          evaluation_key: 'eval-2',
          lease_owner: 'inv-2',
          episodes: strategyEpisodes(300, 1, 'idle'),
          audit: audit('2025-03-10T21:00:32.000Z#evaluation#d2'),
        });
        expect(await store.commitEvaluation(next)).toBe('committed');
        const again = await store.loadEpisodes(W);
        expect([...again.values()].every((e) => e.version === 2 && e.status === 'idle')).toBe(true);
      });

      it('is a conflict, writing nothing, when one of 300 changed episodes moved since it was read', async () => {
        const store = await claimed(s.store);
        expect(await store.commitEvaluation(commit({ episodes: strategyEpisodes(1, 0) }))).toBe('committed');
        await store.claimEvaluation(W, 'eval-2', 'inv-2', T0 + 60_000, T0);
        // strategy-0000 is at version 1 now; this evaluation read it absent.
        const stale = commit({
          evaluation_key: 'eval-2',
          lease_owner: 'inv-2',
          episodes: strategyEpisodes(300, 0),
          audit: audit('2025-03-10T21:00:32.000Z#evaluation#d2'),
        });
        expect(await store.commitEvaluation(stale)).toBe('conflict');
        expect((await store.loadEpisodes(W)).size).toBe(1);
        expect((await store.getEvaluation(W, 'eval-2'))?.status).toBe('in_progress');
        expect(await s.audit()).toHaveLength(1);
        // Refused without a trace: a small commit of the same world still goes through.
        const small = { ...stale, episodes: [{ ...strategyEpisodes(1, 1, 'idle')[0]! }] };
        expect(await store.commitEvaluation(small)).toBe('committed');
      });

      it('is a conflict when the audit record already exists', async () => {
        const store = await claimed(s.store);
        await store.appendAudit(audit('2025-03-10T21:00:31.000Z#evaluation#d1'));
        expect(await store.commitEvaluation(commit())).toBe(atomicCommit ? 'conflict' : 'committed');
      });

      it('still commits when a newer snapshot only arrived (a fast stream never starves a world)', async () => {
        const store = await claimed(s.store);
        await advance(store, T0 + 86_400_000, 'v2');
        expect(await store.commitEvaluation(commit())).toBe('committed');
        expect((await store.getLatestSnapshot(W))?.evaluated_as_of_ms).toBe(T0);
      });

      it('is superseded, writing nothing, once an evaluation of a newer snapshot committed', async () => {
        const store = await claimed(s.store);
        await advance(store, T0 + 86_400_000, 'v2');
        await store.claimEvaluation(W, 'eval-2', 'inv-2', T0 + 60_000, T0);
        const newer = commit({
          evaluation_key: 'eval-2',
          lease_owner: 'inv-2',
          snapshot_as_of_ms: T0 + 86_400_000,
          episodes: [],
          audit: audit('2025-03-11T21:00:31.000Z#evaluation#d2'),
        });
        expect(await store.commitEvaluation(newer)).toBe('committed');
        expect(await store.commitEvaluation(commit())).toBe('superseded');
        expect(await store.loadEpisodes(W)).toEqual(new Map());
        expect((await store.getEvaluation(W, 'eval-1'))?.status).toBe('in_progress');
      });

      it('skips the latest-snapshot check for a terminal commit (NaN as_of)', async () => {
        const store = await claimed(s.store);
        await advance(store, T0 + 1, 'v2');
        const terminal = commit({
          snapshot_as_of_ms: Number.NaN,
          episodes: [],
          events: [],
          signal_items: [],
        });
        expect(await store.commitEvaluation(terminal)).toBe('committed');
      });

      it('throws when the claim is not (or no longer) the committer’s', async () => {
        const store = await claimed(s.store);
        await expect(store.commitEvaluation(commit({ lease_owner: 'inv-2' }))).rejects.toBeInstanceOf(
          EvaluationInProgressError,
        );
        await store.claimEvaluation(W, 'eval-1', 'inv-2', T0 + 200_000, T0 + 100_000);
        if (atomicCommit) {
          await expect(store.commitEvaluation(commit())).rejects.toBeInstanceOf(EvaluationInProgressError);
        } else {
          // The first attempt's episode write stayed: the stale owner's retry conflicts on it.
          expect(await store.commitEvaluation(commit())).toBe('conflict');
        }
        expect((await store.getEvaluation(W, 'eval-1'))?.lease_owner).toBe('inv-2');
      });
    });

    describe('publishing', () => {
      it('gives the right to publish a pending outbox to one invocation at a time', async () => {
        const store = await claimed(s.store);
        await store.commitEvaluation(commit()); // the committer holds it until T0 + 60 s
        expect((await store.acquirePublish(W, 'eval-1', 'inv-2', T0 + 120_000, T0 + 1000)).claimed).toBe(
          false,
        );
        expect((await store.acquirePublish(W, 'eval-1', 'inv-2', T0 + 120_000, T0 + 60_001)).claimed).toBe(
          true,
        );
        expect((await store.acquirePublish(W, 'eval-1', 'inv-3', T0 + 180_000, T0 + 60_002)).claimed).toBe(
          false,
        );
        await store.releasePublish(W, 'eval-1', 'inv-3');
        expect((await store.acquirePublish(W, 'eval-1', 'inv-3', T0 + 180_000, T0 + 60_002)).claimed).toBe(
          false,
        );
        await store.releasePublish(W, 'eval-1', 'inv-2');
        expect((await store.acquirePublish(W, 'eval-1', 'inv-3', T0 + 180_000, T0 + 60_002)).claimed).toBe(
          true,
        );
      });

      it('has nothing to acquire once published, or when there was nothing to publish', async () => {
        const store = await claimed(s.store);
        await store.commitEvaluation(commit());
        await store.markPublished(W, 'eval-1', [signal('sig-1')], '2025-03-10T21:00:31.000Z');
        expect((await store.getEvaluation(W, 'eval-1'))?.outbox_status).toBe('published');
        expect(
          (await store.acquirePublish(W, 'eval-1', 'inv-2', Number.MAX_SAFE_INTEGER, T0 + 10 ** 9)).claimed,
        ).toBe(false);
        expect((await store.acquirePublish(W, 'missing', 'inv-2', T0 + 1, T0)).claimed).toBe(false);
      });

      it('stores signal rows once: a second put leaves the first row as it was', async () => {
        const store = s.store;
        await store.putSignals([signal('sig-2', 'shadow')]);
        await store.putSignals([{ ...signal('sig-2', 'shadow'), reduction_ratio: 0.9 }]);
        expect((await s.signals()).map((r) => [r.signal_id, r.status, r.reduction_ratio])).toEqual([
          ['sig-2', 'shadow', 0.4],
        ]);
      });

      it('writes the published rows once, already published, when the outbox is marked', async () => {
        const store = s.store;
        await store.markPublished(
          W,
          'eval-1',
          [signal('sig-1'), signal('sig-2')],
          '2025-03-10T21:00:31.000Z',
        );
        expect((await s.signals()).map((r) => [r.signal_id, r.status, r.published_at, r.event_id])).toEqual([
          ['sig-1', 'published', '2025-03-10T21:00:31.000Z', 'evt-1'],
          ['sig-2', 'published', '2025-03-10T21:00:31.000Z', 'evt-1'],
        ]);
      });

      it('moves on a row an older version wrote pending_publish (its outbox resumed after an upgrade)', async () => {
        const store = s.store;
        // The previous format: the row written at commit, pending, then rewritten once published.
        await store.putSignals([{ ...signal('sig-1'), metrics: { var: 0.04 } }]);
        await store.markPublished(W, 'eval-1', [signal('sig-1')], '2025-03-10T21:00:31.000Z');
        const [row] = await s.signals();
        expect(row).toMatchObject({ status: 'published', published_at: '2025-03-10T21:00:31.000Z' });
      });

      it('leaves a row already published alone when a retried publish marks it again', async () => {
        const store = s.store;
        await store.markPublished(W, 'eval-1', [signal('sig-1')], '2025-03-10T21:00:31.000Z');
        // The retry of a publish that crashed before marking the outbox publishes and marks again.
        await store.markPublished(
          W,
          'eval-1',
          [{ ...signal('sig-1'), reduction_ratio: 0.9 }],
          '2025-03-10T21:05:00.000Z',
        );
        await store.putSignals([signal('sig-1')]);
        const [row] = await s.signals();
        expect(row).toMatchObject({
          status: 'published',
          published_at: '2025-03-10T21:00:31.000Z',
          reduction_ratio: 0.4,
        });
      });

      it('never marks a decided, proposed or shadow row published', async () => {
        const store = s.store;
        await store.putSignals([
          signal('sig-a', 'approved'),
          signal('sig-p', 'proposed'),
          signal('sig-s', 'shadow'),
        ]);
        await store.markPublished(
          W,
          'eval-1',
          [signal('sig-a'), signal('sig-p'), signal('sig-s')],
          '2025-03-10T21:00:31.000Z',
        );
        expect((await s.signals()).map((r) => [r.signal_id, r.status])).toEqual([
          ['sig-a', 'approved'],
          ['sig-p', 'proposed'],
          ['sig-s', 'shadow'],
        ]);
      });
    });

    describe('approved cuts', () => {
      it('reads only approval-mode cuts that were approved or published, of this world, since the time given', async () => {
        const store = s.store;
        const at = (id: string, over: Partial<SignalItem>) => ({
          ...signal(id),
          mode: 'approval' as const,
          ...over,
        });
        await store.putSignals([
          at('ok-approved', { status: 'approved', strategy_id: 'a' }),
          at('ok-published', { status: 'published', strategy_id: 'b', rule_ids: ['r1', 'r2'] }),
          at('rejected', { status: 'rejected', strategy_id: 'c' }),
          at('expired', { status: 'expired', strategy_id: 'd' }),
          at('proposed', { status: 'proposed', strategy_id: 'e' }),
          at('hold', { status: 'published', strategy_id: 'f', action: 'hold' }),
          at('older', { status: 'published', strategy_id: 'g', emitted_at: '2025-03-10T20:00:00.000Z' }),
          at('other-world', { status: 'published', strategy_id: 'h', world_id: 'w2' }),
          { ...signal('enforced', 'published'), strategy_id: 'i' },
        ]);
        const cuts = await store.loadApprovedCuts(W, '2025-03-10T21:00:00.000Z');
        expect(cuts.map((c) => [c.strategy_id, c.rule_ids, c.emitted_at]).sort()).toEqual([
          ['a', ['var_99_limit'], '2025-03-10T21:00:31.000Z'],
          ['b', ['r1', 'r2'], '2025-03-10T21:00:31.000Z'],
        ]);
      });
    });

    describe('audit, market and mutes', () => {
      it('appends audit records once each, in order', async () => {
        const store = s.store;
        await store.appendAudit({ ...audit('r1'), reasons: ['first'] });
        await store.appendAudit({ ...audit('r2') });
        await store.appendAudit({ ...audit('r1'), reasons: ['second'] });
        await store.appendAudit({ ...audit('r1', 'w2') });
        expect((await s.audit()).map((a) => [a.world_id, a.record_id, a.reasons])).toEqual([
          [W, 'r1', ['first']],
          [W, 'r2', undefined],
          ['w2', 'r1', undefined],
        ]);
      });

      it('keeps the latest market data per scope, forward only', async () => {
        const store = s.store;
        const view = (asOfMs: number, id: string, vix: number) => ({
          scope: 'global',
          as_of: new Date(asOfMs).toISOString(),
          asOfMs,
          indicators: { vix },
          series: {},
          source_event_id: id,
        });
        expect(await store.putMarket(view(T0, 'm1', 20))).toBe('advanced');
        expect(await store.putMarket(view(T0, 'm1', 20))).toBe('same');
        expect(await store.putMarket(view(T0, 'm2', 99))).toBe('older');
        expect(await store.putMarket(view(T0 - 1, 'm0', 99))).toBe('older');
        expect(await store.putMarket(view(T0 + 1, 'm3', 45))).toBe('advanced');
        const market = await store.loadMarket(['global', 'us-equities']);
        expect([...market.keys()]).toEqual(['global']);
        expect(market.get('global')).toEqual({
          scope: 'global',
          as_of: new Date(T0 + 1).toISOString(),
          asOfMs: T0 + 1,
          indicators: { vix: 45 },
          series: {},
        });
      });

      it('loads the mutes still in force (not ended by ops)', async () => {
        const store = s.store;
        const mute = { mute_id: 'm1', world_id: W, until: '2025-03-11T00:00:00Z', reason: 'x', actor: 'ops' };
        await s.putMute(mute);
        await s.putMute({ ...mute, mute_id: 'm2', ended_at: '2025-03-10T22:00:00Z' });
        expect((await store.loadMutes(W)).map((m) => m.mute_id)).toEqual(['m1']);
        expect(await store.loadMutes('other')).toEqual([]);
      });
    });
  });
}
