import { editDistance } from '#lib/edit-distance.js';
import { formatDuration, parseInstant } from './durations.js';
import { digest } from './ids.js';
import { required } from './ops-context.js';
import { OpsConflictError, OpsNotFoundError, OpsValidationError } from './ops-errors.js';
import type { AuditRecord, EngineMetrics, MuteRecord, OpsStore } from './ports.js';
import { principalOf } from './principal.js';
import type { WorldCatalog } from './world-catalog.js';

/**
 * The mute use cases and their rules: a mute names a rule and a strategy that exist, never duplicates
 * an active one, and needs a second person when it is long (beyond the rule set's `max_mute_sec`) or
 * silences the whole world (no rule and no strategy). Pure over ports; time is passed in.
 */

export interface MuteRequest {
  world: string;
  strategy?: string;
  rule?: string;
  /** ISO time the mute ends. */
  until: string;
  reason: string;
  /** The caller as authenticated (full ARN); `principal` is derived from it unless given. */
  actor: string;
  principal?: string;
  nowMs: number;
}

export interface UnmuteRequest {
  world: string;
  muteId?: string;
  strategy?: string;
  rule?: string;
  reason?: string;
  actor: string;
  principal?: string;
  nowMs: number;
}

export type MuteResult =
  | { outcome: 'muted'; mute: MuteRecord; created: true }
  /** The same request again (same id): nothing new. */
  | { outcome: 'already_muted'; mute: MuteRecord; created: false }
  /** Stored as a request; silences nothing until a second, different person approves it. */
  | { outcome: 'awaiting_second_approval'; mute: MuteRecord; created: boolean; why: string };

/** A mute with its state at a given time. */
export type MuteView = MuteRecord & { state: 'active' | 'expired' | 'ended' };

/** A mute's id: the same request repeated is the same mute, not a second one. */
export function muteId(
  m: Pick<MuteRequest, 'world' | 'strategy' | 'rule' | 'until' | 'reason' | 'actor'>,
): string {
  return `mute-${digest('mute', m.world, m.strategy ?? '*', m.rule ?? '*', m.until, m.reason, m.actor).slice(0, 12)}`;
}

/** Whether a mute silences exactly these selectors (absent = all strategies / all rules). */
export function hasSelectors(
  mute: Pick<MuteRecord, 'strategy_id' | 'rule_id'>,
  strategy?: string,
  rule?: string,
) {
  return (mute.strategy_id ?? undefined) === strategy && (mute.rule_id ?? undefined) === rule;
}

/** A mute's state at `nowMs`: ended by a person, expired by itself, or active. */
export function muteState(mute: MuteRecord, nowMs: number): MuteView['state'] {
  if (mute.ended_at !== undefined) return 'ended';
  return Date.parse(mute.until) <= nowMs ? 'expired' : 'active';
}

/** The closest known name, when it is close enough to be a typo. */
export function didYouMean(value: string, known: readonly string[]): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const name of known) {
    const d = editDistance(value.toLowerCase(), name.toLowerCase());
    if (!best || d < best.d) best = { name, d };
  }
  return best && best.d <= Math.max(2, Math.floor(best.name.length / 3)) ? best.name : undefined;
}

function unknownName(
  field: string,
  value: string,
  known: readonly string[],
  where: string,
): OpsValidationError {
  const guess = didYouMean(value, known);
  const list = known.length <= 12 ? known.join(', ') : `${known.slice(0, 12).join(', ')}, …`;
  return new OpsValidationError(
    field,
    `'${value}' is not ${where}${guess ? `; did you mean '${guess}'?` : ''} (known: ${list || 'none'})`,
  );
}

export interface MuteOpsDeps {
  store: OpsStore;
  catalog: WorldCatalog;
  metrics: EngineMetrics;
  audit: (
    world: string,
    action: string,
    targetId: string,
    who: { actor: string; principal: string },
    reason: string,
    nowMs: number,
    change: { before: unknown; after: unknown; note?: string },
  ) => AuditRecord;
}

const describeScope = (m: Pick<MuteRecord, 'strategy_id' | 'rule_id'>) =>
  `${m.strategy_id ? `strategy ${m.strategy_id}` : 'all strategies'}, ${m.rule_id ? `rule ${m.rule_id}` : 'all rules'}`;

/** Mute, approve a mute request, unmute, list. */
export class MuteOps {
  constructor(private readonly deps: MuteOpsDeps) {}

  async mute(req: MuteRequest): Promise<MuteResult> {
    const world = required('world', req.world);
    const reason = required('reason', req.reason);
    const actor = required('actor', req.actor);
    const principal = req.principal ?? principalOf(actor);
    const untilMs = parseInstant(req.until, 'until');
    if (untilMs <= req.nowMs) {
      throw new OpsValidationError('until', `${new Date(untilMs).toISOString()} is not in the future`);
    }
    const until = new Date(untilMs).toISOString();
    const strategy = req.strategy?.trim() || undefined;
    const rule = req.rule?.trim() || undefined;
    const ruleSet = await this.checkScope(world, strategy, rule);

    const id = muteId({ world, strategy, rule, until, reason, actor });
    const existing = await this.deps.store.getMute(world, id);
    if (existing) return { outcome: 'already_muted', mute: existing, created: false };
    await this.refuseDuplicate(world, strategy, rule, req.nowMs);

    const at = new Date(req.nowMs).toISOString();
    const mute: MuteRecord = {
      mute_id: id,
      world_id: world,
      ...(strategy ? { strategy_id: strategy } : {}),
      ...(rule ? { rule_id: rule } : {}),
      until,
      reason,
      actor,
      principal,
      created_at: at,
    };
    const why = this.secondApproverReason(mute, untilMs - req.nowMs, ruleSet.max_mute_sec);
    if (why) {
      const request: MuteRecord = { ...mute, approvals: [{ actor, principal, at, reason }] };
      const created = await this.deps.store.putMuteRequest(
        request,
        this.deps.audit(world, 'mute_request', id, { actor, principal }, reason, req.nowMs, {
          before: null,
          after: { ...request, state: 'awaiting_second_approval' },
          note: why,
        }),
      );
      if (created) this.deps.metrics.count('OpsActions', 1, { action: 'mute_request' });
      return { outcome: 'awaiting_second_approval', mute: request, created, why };
    }
    const created = await this.deps.store.putMute(
      mute,
      this.deps.audit(world, 'mute', id, { actor, principal }, reason, req.nowMs, {
        before: null,
        after: { ...mute, state: 'active' },
      }),
    );
    if (!created) {
      const stored = await this.deps.store.getMute(world, id);
      return { outcome: 'already_muted', mute: stored ?? mute, created: false };
    }
    this.deps.metrics.count('OpsActions', 1, { action: 'mute' });
    return { outcome: 'muted', mute, created: true };
  }

  /** The second approval of a mute request: a different person makes it active. */
  async approveMute(
    worldId: string,
    id: string,
    who: { actor: string; principal?: string; reason: string; nowMs: number },
  ): Promise<MuteRecord> {
    const world = required('world', worldId);
    const muteIdValue = required('mute_id', id);
    const actor = required('actor', who.actor);
    const reason = required('reason', who.reason);
    const principal = who.principal ?? principalOf(actor);
    const request = await this.deps.store.getMuteRequest(world, muteIdValue);
    if (!request) {
      const active = await this.deps.store.getMute(world, muteIdValue);
      if (active) throw new OpsConflictError(`mute ${muteIdValue} is already approved and active`, 'active');
      throw new OpsNotFoundError(`no mute request '${muteIdValue}' in world '${world}' awaiting approval`);
    }
    if (Date.parse(request.until) <= who.nowMs) {
      throw new OpsConflictError(
        `mute request ${muteIdValue} ran out at ${request.until} before a second approval; nothing to approve`,
        'expired',
      );
    }
    const first = request.approvals ?? [];
    const same = first.find((a) => (a.principal ?? principalOf(a.actor)) === principal);
    if (same) {
      throw new OpsConflictError(
        `mute ${muteIdValue} needs a second, different person: ${principal} requested it (as ${same.actor}); another principal must approve`,
        'awaiting_second_approval',
      );
    }
    await this.refuseDuplicate(world, request.strategy_id, request.rule_id, who.nowMs);
    const at = new Date(who.nowMs).toISOString();
    const mute: MuteRecord = { ...request, approvals: [...first, { actor, principal, at, reason }] };
    const ok = await this.deps.store.activateMuteRequest(
      mute,
      this.deps.audit(world, 'mute_approve', muteIdValue, { actor, principal }, reason, who.nowMs, {
        before: { ...request, state: 'awaiting_second_approval' },
        after: { ...mute, state: 'active' },
      }),
    );
    if (!ok)
      throw new OpsConflictError(
        `mute request ${muteIdValue} was approved by someone else meanwhile`,
        'active',
      );
    this.deps.metrics.count('OpsActions', 1, { action: 'mute_approve' });
    return mute;
  }

  /** Ends a mute by id, or every active mute of the world with exactly these selectors; a reason is required. */
  async unmute(req: UnmuteRequest): Promise<MuteRecord[]> {
    const world = required('world', req.world);
    const actor = required('actor', req.actor);
    const principal = req.principal ?? principalOf(actor);
    const reason = req.reason?.trim();
    if (!reason)
      throw new OpsValidationError('reason', 'is required: say why the mute ends, for the audit trail');
    let targets: MuteRecord[];
    if (req.muteId) {
      const found = await this.deps.store.getMute(world, req.muteId.trim());
      if (!found) {
        throw new OpsNotFoundError(
          `no mute '${req.muteId}' in world '${world}' (see 'mutes --world ${world}')`,
        );
      }
      const state = muteState(found, req.nowMs);
      if (state !== 'active') {
        throw new OpsConflictError(
          state === 'ended'
            ? `mute ${found.mute_id} was already ended by ${found.ended_by} at ${found.ended_at}`
            : `mute ${found.mute_id} expired by itself at ${found.until}; nothing to unmute`,
          state,
        );
      }
      targets = [found];
    } else {
      const strategy = req.strategy?.trim() || undefined;
      const rule = req.rule?.trim() || undefined;
      targets = (await this.deps.store.listMutes(world)).filter(
        (m) => muteState(m, req.nowMs) === 'active' && hasSelectors(m, strategy, rule),
      );
      if (targets.length === 0) {
        throw new OpsNotFoundError(
          `no active mute in world '${world}' for ${describeScope({ strategy_id: strategy, rule_id: rule })} (see 'mutes --world ${world}')`,
        );
      }
    }
    const ended: MuteRecord[] = [];
    const at = new Date(req.nowMs).toISOString();
    for (const m of targets) {
      const end = { ended_at: at, ended_by: actor, end_reason: reason };
      const ok = await this.deps.store.endMute(
        world,
        m.mute_id,
        end,
        this.deps.audit(world, 'unmute', m.mute_id, { actor, principal }, reason, req.nowMs, {
          before: { ...m, state: 'active' },
          after: { ...m, ...end, state: 'ended' },
        }),
      );
      if (ok) ended.push({ ...m, ...end });
    }
    if (ended.length === 0) throw new OpsConflictError('the mute(s) had already ended', 'ended');
    this.deps.metrics.count('OpsActions', ended.length, { action: 'unmute' });
    return ended;
  }

  /** Mutes of a world (or all worlds) with their state; active only unless `all`. */
  async listMutes(world: string | undefined, nowMs: number, all = false): Promise<MuteView[]> {
    const mutes = await this.deps.store.listMutes(world?.trim() || undefined);
    return mutes
      .map((m) => ({ ...m, state: muteState(m, nowMs) }))
      .filter((m) => all || m.state === 'active')
      .sort((a, b) => a.until.localeCompare(b.until));
  }

  /** The rule and the strategy must exist in the world's current rule set and latest weights. */
  private async checkScope(world: string, strategy?: string, rule?: string) {
    const ruleSet = await this.deps.catalog.ruleSet(world);
    if (!ruleSet)
      throw new OpsValidationError('world', `no rule set applies to world '${world}'; nothing to mute`);
    if (rule && !ruleSet.rule_ids.includes(rule)) {
      throw unknownName(
        'rule',
        rule,
        ruleSet.rule_ids,
        `a rule of world '${world}' (rule set ${ruleSet.version})`,
      );
    }
    if (strategy) {
      const strategies = await this.deps.catalog.strategies(world);
      if (!strategies) {
        throw new OpsValidationError(
          'strategy',
          `world '${world}' has had no snapshot, so strategy '${strategy}' cannot be checked; mute without --strategy or wait for the first snapshot`,
        );
      }
      if (!strategies.includes(strategy)) {
        throw unknownName(
          'strategy',
          strategy,
          strategies,
          `a strategy in world '${world}' (latest snapshot weights)`,
        );
      }
    }
    return ruleSet;
  }

  private async refuseDuplicate(
    world: string,
    strategy: string | undefined,
    rule: string | undefined,
    nowMs: number,
  ) {
    const active = (await this.deps.store.listMutes(world)).find(
      (m) => muteState(m, nowMs) === 'active' && hasSelectors(m, strategy, rule),
    );
    if (active) {
      throw new OpsConflictError(
        `world '${world}' already has an active mute for ${describeScope(active)}: ${active.mute_id} by ${active.actor} until ${active.until}; unmute it first or let it expire`,
        'active',
      );
    }
  }

  /** Why a mute needs a second approver, or undefined when one person may set it. */
  private secondApproverReason(mute: MuteRecord, durationMs: number, maxMuteSec: number): string | undefined {
    if (!mute.strategy_id && !mute.rule_id) {
      return 'a world-wide mute (all rules, all strategies) needs a second approver';
    }
    if (durationMs > maxMuteSec * 1000) {
      return `a mute of ${formatDuration(durationMs)} is longer than the rule set's max_mute_sec (${formatDuration(maxMuteSec * 1000)}) and needs a second approver`;
    }
    return undefined;
  }
}
