import { InMemoryOpsStore } from '#lib/adapters/memory/memory-ops-store.js';
import { InMemoryEngineStore } from '#lib/adapters/memory/memory-store.js';
import {
  type ApprovedCut,
  activeMutes,
  approvedCutOf,
  isApprovedCut,
  type Mute,
} from '#lib/engine/evaluate.js';
import { catalogFrom, OpsError, OpsService } from '#lib/engine/ops.js';
import type {
  AuditRecord,
  EngineLogger,
  EngineMetrics,
  EvaluationCommit,
  SignalItem,
  SignalPublisher,
} from '#lib/engine/ports.js';
import type { RuleSetRegistry } from '#lib/rules/ruleset-loader.js';
import type { OpsLine } from './ops-file.js';

/**
 * `replay --ops`: the ops actions of a file applied at their times through the same OpsService the
 * runtime uses. In the runtime the engine and the ops service share the tables; here the engine's
 * in-memory store hands the ops store what the tables would show it (signal rows, committed
 * outboxes), and reads the mutes the ops service set.
 */

/** The engine's in-memory store, sharing signal rows, outboxes and mutes with the ops store. */
export class OpsLinkedEngineStore extends InMemoryEngineStore {
  constructor(
    private readonly ops: InMemoryOpsStore,
    options: { onAudit?: (record: AuditRecord) => void } = {},
  ) {
    super(options);
  }

  override async putSignals(items: readonly SignalItem[]): Promise<void> {
    await super.putSignals(items);
    this.ops.putSignals(items);
  }

  /** The rows of published signals are written when the outbox is marked published, not before. */
  override async markPublished(
    worldId: string,
    evaluationKey: string,
    items: readonly SignalItem[],
    publishedAt: string,
  ): Promise<void> {
    await super.markPublished(worldId, evaluationKey, items, publishedAt);
    this.ops.putSignals(
      items.map((i) => ({ ...i, status: 'published' as const, published_at: publishedAt })),
    );
  }

  override async commitEvaluation(commit: EvaluationCommit) {
    const result = await super.commitEvaluation(commit);
    if (result === 'committed' && commit.events.length > 0)
      this.ops.putOutbox(commit.world_id, commit.evaluation_key, commit.events);
    return result;
  }

  /** Approvals are the ops store's: a cleared episode tells `hold` to the strategies ops approved a cut for. */
  override async loadApprovedCuts(worldId: string, since: string): Promise<ApprovedCut[]> {
    return (await this.ops.listSignals({ world_id: worldId, since }))
      .filter(isApprovedCut)
      .map(approvedCutOf);
  }

  override async loadMutes(worldId: string): Promise<Mute[]> {
    return activeMutes(await this.ops.listMutes(worldId));
  }
}

/** What one line of the ops file did: for the summary and the JSON report. */
export interface AppliedOps {
  line: number;
  at: string;
  action: OpsLine['action'];
  world: string;
  actor: string;
  /** What happened, in words (`muted mute-…`, `published sig-…`, …). */
  results: string[];
  /** The service refused it (its message); the replay goes on and exits 1. */
  error?: string;
}

const noMetrics: EngineMetrics = { count: () => undefined, measure: () => undefined };
const noLogs: EngineLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

export class ReplayOps {
  readonly store = new InMemoryOpsStore();
  private service: OpsService | undefined;

  /** Connects the service to the engine's store and publisher (once the engine exists). */
  connect(args: {
    engineStore: InMemoryEngineStore;
    ruleSets: RuleSetRegistry;
    publisher: SignalPublisher;
    engineVersion: string;
    leaseMs: number;
    auditRetentionDays: number;
  }): void {
    this.store.episodeSource = (worldId) => args.engineStore.loadEpisodes(worldId);
    this.service = new OpsService({
      store: this.store,
      catalog: catalogFrom(args.ruleSets, args.engineStore),
      publisher: args.publisher,
      logger: noLogs,
      metrics: noMetrics,
      engineVersion: args.engineVersion,
      leaseMs: args.leaseMs,
      auditRetentionDays: args.auditRetentionDays,
    });
  }

  /** Applies one ops line at its own time; a refusal by the service is reported, not thrown. */
  async apply(op: OpsLine): Promise<AppliedOps> {
    const ops = this.service;
    if (!ops) throw new Error('ReplayOps.apply before connect');
    const applied: AppliedOps = {
      line: op.line,
      at: op.at,
      action: op.action,
      world: op.world,
      actor: op.actor,
      results: [],
    };
    const nowMs = op.atMs;
    try {
      switch (op.action) {
        case 'mute': {
          const r = await ops.mute({
            world: op.world,
            ...(op.rule ? { rule: op.rule } : {}),
            ...(op.strategy ? { strategy: op.strategy } : {}),
            until: op.until!,
            reason: op.reason!,
            actor: op.actor,
            nowMs,
          });
          applied.results.push(
            r.outcome === 'awaiting_second_approval'
              ? `${r.mute.mute_id} awaits a second approver (${r.why})`
              : `${r.outcome === 'muted' ? 'muted' : 'already muted'} ${r.mute.mute_id} until ${r.mute.until}`,
          );
          break;
        }
        case 'unmute': {
          const ended = await ops.unmute({
            world: op.world,
            ...(op.mute_id ? { muteId: op.mute_id } : {}),
            ...(op.rule ? { rule: op.rule } : {}),
            ...(op.strategy ? { strategy: op.strategy } : {}),
            reason: op.reason!,
            actor: op.actor,
            nowMs,
          });
          applied.results.push(...ended.map((m) => `ended ${m.mute_id}`));
          break;
        }
        case 'approve':
        case 'reject': {
          const ids = await this.targets(op);
          if (ids.length === 0) {
            applied.error = `no proposal of world '${op.world}'${op.rule ? ` rule '${op.rule}'` : ''}${
              op.strategy ? ` strategy '${op.strategy}'` : ''
            } is waiting for a decision at ${op.at}`;
            break;
          }
          for (const id of ids) {
            const who = { actor: op.actor, reason: op.reason ?? 'replayed approval', nowMs };
            if (op.action === 'reject') {
              await ops.reject(id, who);
              applied.results.push(`rejected ${id}`);
            } else {
              const r = await ops.approve(id, who);
              applied.results.push(
                r.outcome === 'awaiting_second_approval'
                  ? `${id} awaits a second approver`
                  : `approved ${id}: published ${r.event_id}`,
              );
            }
          }
          break;
        }
      }
    } catch (error) {
      if (!(error instanceof OpsError)) throw error;
      applied.error = error.message;
    }
    return applied;
  }

  /** The proposals a decision line names: its signal, or those of the world matching rule/strategy. */
  private async targets(op: OpsLine): Promise<string[]> {
    if (op.signal_id) return [op.signal_id];
    const waiting = await this.store.listSignals({ world_id: op.world, status: 'proposed' });
    return waiting
      .filter(
        (s) =>
          (op.rule === undefined || s.rule_ids.includes(op.rule)) &&
          (op.strategy === undefined || s.strategy_id === op.strategy),
      )
      .sort((a, b) => a.emitted_at.localeCompare(b.emitted_at) || a.signal_id.localeCompare(b.signal_id))
      .map((s) => s.signal_id);
  }
}
