/**
 * What the local runtime prints: one readable line per decision, delivery outcome, dead letter,
 * ops action and warning. Pure formatting; the runtime decides when to print.
 */
import type { ExitSignalEvent } from '#lib/contracts/exit-signal.js';
import type { Outcome } from '#lib/engine/engine.js';
import type { DeadLetter, UnroutedEvent } from '#lib/local/local-event-bus.js';
import { opsActionChange } from '../ops/format.js';
import { formatRuleValue } from '../rules/explain-rule.js';

const pct = (x: unknown) => (typeof x === 'number' ? `${(x * 100).toFixed(2)}%` : 'n/a');

type Signal = ExitSignalEvent['data']['signals'][number];

function why(s: Signal): string {
  const m = (s.metrics ?? {}) as Record<string, unknown>;
  // In the rule's own units (a VIX level as a level, a loss as a percent of capital); a percent when
  // the signal does not say its kind.
  const kind = typeof m.kind === 'string' ? m.kind : undefined;
  const measureName = typeof m.measure_name === 'string' ? m.measure_name : undefined;
  const v = (x: unknown) =>
    kind !== undefined && (typeof x === 'number' || x === null)
      ? formatRuleValue(kind, measureName, x)
      : pct(x);
  return s.action === 'hold'
    ? `${String(m.rule_id)} episode over (${v(m.measure)} <= clear ${v(m.clear)})`
    : `${String(m.rule_id)}: ${v(m.measure)} > limit ${v(m.limit)}${m.measure_after !== undefined && m.measure_after !== null ? `, after ${v(m.measure_after)}` : ''}`;
}

function sizeOf(action: string, ratios: number[]): string {
  if (action === 'exit') return 'fully';
  if (action !== 'reduce') return '';
  const lo = Math.min(...ratios);
  const hi = Math.max(...ratios);
  return lo === hi ? `by ${pct(lo)}` : `by ${pct(lo)}-${pct(hi)}`;
}

/** One readable line per signal, as a gateway operator would want to see it. */
export function describeSignalEvent(event: ExitSignalEvent): string[] {
  const d = event.data;
  return d.signals.map((s) => {
    const action = s.action.toUpperCase().padEnd(6);
    const size = sizeOf(s.action, [s.reduction_ratio ?? 0]);
    return `  SIGNAL ${d.as_of.slice(0, 10)} ${d.world_id} ${action} ${s.strategy_id.padEnd(14)} ${size.padEnd(10)} ${String(s.reason).padEnd(24)} ${why(s)}`;
  });
}

/**
 * One line per decision: a world-wide action (signals tagged `scope:world` from one rule) is one
 * line with its strategy count; strategy-level signals keep a line each. `verbose` lists every
 * strategy of a world-wide action too.
 */
export function describeDecisions(event: ExitSignalEvent, verbose = false): string[] {
  if (verbose) return describeSignalEvent(event);
  const d = event.data;
  const lines: string[] = [];
  const groups = new Map<string, Signal[]>();
  for (const s of d.signals) {
    if (!s.tags?.includes('scope:world')) {
      lines.push(...describeSignalEvent({ ...event, data: { ...d, signals: [s] } }));
      continue;
    }
    const rule = String((s.metrics as Record<string, unknown> | undefined)?.rule_id);
    const key = `${s.action}|${rule}|${s.reason}`;
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  for (const group of groups.values()) {
    const first = group[0]!;
    const action = first.action.toUpperCase().padEnd(6);
    const who = `${group.length} strateg${group.length === 1 ? 'y' : 'ies'}`.padEnd(14);
    const size = sizeOf(
      first.action,
      group.map((s) => s.reduction_ratio ?? 0),
    );
    lines.push(
      `  SIGNAL ${d.as_of.slice(0, 10)} ${d.world_id} ${action} ${who} ${size.padEnd(10)} ${String(first.reason).padEnd(24)} ${why(first)} (world-wide)`,
    );
  }
  return lines;
}

/** A handler outcome worth a line during a replay (published ones show as their signals). */
export function describeOutcome(o: Outcome): string | undefined {
  switch (o.outcome) {
    case 'rejected':
      return `  REJECTED ${o.world_id}: ${o.reasons.slice(0, 3).join('; ')}`;
    case 'duplicate':
      return `  DUPLICATE ${o.world_id}: already evaluated; no second signal`;
    case 'out_of_order':
      return `  OUT-OF-ORDER ${o.world_id}: older than the latest snapshot (${o.latest_as_of}); recorded and ignored`;
    case 'expired':
      return o.trigger === 'market'
        ? `  EXPIRED ${o.world_id}: not re-evaluated on market data, its latest snapshot expired at ${o.expired_at} (the staleness sweep covers a quiet hub)`
        : `  EXPIRED ${o.world_id}: snapshot expired at ${o.expired_at}; recorded, not evaluated`;
    case 'superseded':
      return `  SUPERSEDED ${o.world_id}: a newer snapshot arrived during evaluation`;
    case 'no_ruleset':
      return `  NO RULE SET for ${o.world_id}`;
    case 'completed_on_retry':
      return `  COMPLETED ${o.world_id}: published ${o.event_id} left pending by an earlier attempt`;
    case 'stored_only':
      return `  STORED ${o.world_id}: ${o.stored} signal(s) held (shadow/approval/muted), not published`;
    default:
      return undefined;
  }
}

/** Every live delivery outcome gets a line (after the replay nothing is summarised later). */
export function describeLiveOutcome(o: Outcome): string {
  switch (o.outcome) {
    case 'published':
      return `  PUBLISHED ${o.world_id}: event ${o.event_id} with ${o.signals} signal(s)`;
    case 'no_signal':
      return `  EVALUATED ${o.world_id}: no rule fired; nothing to publish`;
    default:
      return describeOutcome(o) ?? `  ${String((o as { outcome: string }).outcome).toUpperCase()}`;
  }
}

/** A dead letter, as printed when it happens. */
export function describeDeadLetter(d: DeadLetter): string {
  const detail = d.event.detail as { data?: { world_id?: unknown; idempotency_key?: unknown } } | undefined;
  const world = typeof detail?.data?.world_id === 'string' ? ` ${detail.data.world_id}` : '';
  const key = typeof detail?.data?.idempotency_key === 'string' ? ` ${detail.data.idempotency_key}` : '';
  const error = d.error instanceof Error ? d.error.message : String(d.error);
  return `  DEAD-LETTER ${d.ruleName}/${d.targetId} ${d.event['detail-type']}${world}${key} after ${d.attempts} attempt(s): ${error}`;
}

/** A warning for an event nothing will evaluate, or undefined when silence is right. */
export function describeUnrouted(
  u: UnroutedEvent,
  engineBus: string,
  engineSource: string,
): string | undefined {
  const what = `${u.event['detail-type']} from ${u.event.source}`;
  if (u.rulesOnBus === 0)
    return `  WARNING: ${what} was put on bus '${u.busName}', which has no rules: nothing evaluates it. Put it on '${engineBus}' (aws events put-events ... with "EventBusName": "${engineBus}" in each entry).`;
  if (u.event.source === engineSource) return undefined; // our own events: only the gateway listens
  return `  WARNING: ${what} on bus '${u.busName}' matched no rule: the engine evaluates risk_snapshot_updated and market_snapshot_updated only.`;
}

/** An ops action from the audit trail (approve, reject, mute, timeout), one line. */
export function describeOpsAction(r: Record<string, unknown>): string {
  const target = r.target as { id?: unknown } | undefined;
  // The same words as `exit-engine audit` (a rule set's `none -> r1 sha256:…`, not `null -> [object Object]`).
  const change = r.before !== undefined || r.after !== undefined ? ` ${opsActionChange(r)}` : '';
  return `  OPS ${String(r.action)} ${String(r.world_id)} ${String(target?.id ?? '')}${change} by ${String(r.actor)}: ${String(r.reason ?? '')}`;
}
