import { readFile } from 'node:fs/promises';
import { inputShape } from '#lib/app/edge.js';
import type { ExitSignalEvent } from '#lib/contracts/exit-signal.js';
import { formatZodIssues } from '#lib/contracts/issues.js';
import { toMarketScopeView } from '#lib/contracts/market-scope-view.js';
import { MarketSnapshotCloudEventSchema, MarketSnapshotDataSchema } from '#lib/contracts/market-snapshot.js';
import { type SnapshotData, snapshotExpiresAt } from '#lib/contracts/risk-snapshot.js';
import { buildExitSignalEvent } from '#lib/engine/build-event.js';
import { type DecidedSignal, evaluateRuleSet, type RuleOutcome } from '#lib/engine/evaluate.js';
import { digest } from '#lib/engine/ids.js';
import { loadRuleKinds } from '#lib/rules/kinds/index.js';
import { prepareSnapshot } from '#lib/rules/prepare.js';
import type { RuleSet } from '#lib/rules/rule-schema.js';
import type { MarketScopeView } from '#lib/rules/types.js';
import { ENGINE_VERSION } from '#lib/runtime/wire.js';
import { type CliCommand, parseFlags, requiredFlag, UsageError } from '../args.js';
import { InputError, loadSnapshotFile, streamHint } from '../load-input.js';
import { formatRuleValue, measureName } from '../rules/explain-rule.js';
import { loadRuleSets } from './rules.js';

/** Where a deployment's rule sets live, and what `evaluate` and `replay` use by default. */
export const DEFAULT_RULES = 'rulesets';
/** The engine's default for how old market data may be before market rules stop using it. */
export const DEFAULT_MARKET_MAX_AGE_MS = 3600 * 1000;

/** Everything one dry run found, as `--json` prints it. */
export interface DryRun {
  world_id: string;
  snapshot_version: string;
  as_of: string;
  evaluated_at: string;
  ruleset: { source: string; world: string; version: string };
  /** When the snapshot is past its TTL at `evaluated_at`: the engine would record it, not evaluate it. */
  expired_at: string | null;
  market_as_of: Record<string, string>;
  warnings: string[];
  rules: RuleOutcome[];
  signals: DecidedSignal[];
  event: ExitSignalEvent | null;
}

/** Reads a market file: a bare `market_snapshot_updated` data object, its CloudEvent, or an EventBridge event. */
export async function loadMarketFile(path: string): Promise<MarketScopeView> {
  let json: unknown;
  let text = '';
  try {
    text = await readFile(path, 'utf8');
    json = JSON.parse(text);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new InputError(`--market ${path}: no such file or directory`, { cause: error });
    if (code) throw error;
    throw new InputError(`${path}: not valid JSON: ${(error as Error).message}${streamHint(text, path)}`, {
      cause: error,
    });
  }
  const shape = inputShape(json);
  const candidate = shape === 'eventbridge' ? (json as { detail: unknown }).detail : json;
  const isCloudEvent = inputShape(candidate) === 'cloudevent';
  const parsed = isCloudEvent
    ? MarketSnapshotCloudEventSchema.safeParse(candidate)
    : MarketSnapshotDataSchema.safeParse(candidate);
  if (!parsed.success)
    throw new InputError(`${path}: invalid market data:\n  ${formatZodIssues(parsed.error).join('\n  ')}`);
  const data = 'specversion' in parsed.data ? parsed.data.data : parsed.data;
  return toMarketScopeView(data as Parameters<typeof toMarketScopeView>[0]);
}

function isoFlag(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const ms = Date.parse(raw);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(raw) || !Number.isFinite(ms))
    throw new UsageError(`--now: must be an ISO 8601 date-time such as 2025-03-10T21:00:30Z (got '${raw}')`);
  return ms;
}

/**
 * One evaluation with no episode history, as the engine would run it for a first delivery: every
 * rule's numbers and verdict (persistence > 1 shows as `breach_pending`), and the event it would
 * publish, with the same id and idempotency key the engine would give it. The rule set's kinds must be
 * loaded first (`loadRuleKinds`).
 */
export function dryRun(args: {
  data: SnapshotData;
  ruleSet: RuleSet;
  market: readonly MarketScopeView[];
  nowMs: number;
}): DryRun {
  const { data, ruleSet, nowMs } = args;
  const now = new Date(nowMs).toISOString();
  const prepared = prepareSnapshot(data);
  const market = new Map(args.market.map((v) => [v.scope, v]));
  const result = evaluateRuleSet({
    ruleSet,
    input: { snapshot: prepared, market, nowMs, marketMaxAgeMs: DEFAULT_MARKET_MAX_AGE_MS },
    episodes: new Map(),
    mutes: [],
    now,
  });
  const world = data.world_id;
  const triggerKey =
    data.idempotency_key ??
    `risk_snapshot_updated:${world}:${data.hash ?? data.version}:${data.event_version ?? 1}`;
  const evaluationKey = digest('snapshot', world, triggerKey, ruleSet.version);
  const marketAsOf = Object.fromEntries([...market].map(([scope, v]) => [scope, v.as_of]));
  const publishable = result.signals.filter((s) => s.channel === 'enforce');
  const event =
    publishable.length > 0
      ? buildExitSignalEvent(
          {
            world_id: world,
            as_of: data.as_of,
            snapshot_version: data.version,
            snapshot_event_version: data.event_version ?? 1,
            evaluation_key: evaluationKey,
            now,
            provenance: {
              actor: 'exit-engine',
              stage: prepared.stage ?? 'unknown',
              engine_version: ENGINE_VERSION,
              ruleset_world: ruleSet.world,
              ruleset_version: ruleSet.version,
              snapshot_hash: prepared.hash ?? null,
              snapshot_as_of: prepared.as_of,
              market_as_of: marketAsOf,
              evaluated_at: now,
              evaluation_key: evaluationKey.slice(0, 16),
              trigger: 'risk_snapshot_updated',
              dry_run: true,
            },
          },
          publishable,
        )
      : null;
  const expiresAtMs = snapshotExpiresAt(data);
  return {
    world_id: world,
    snapshot_version: data.version,
    as_of: data.as_of,
    evaluated_at: now,
    ruleset: { source: ruleSet.source, world: ruleSet.world, version: ruleSet.version },
    expired_at: nowMs > expiresAtMs ? new Date(expiresAtMs).toISOString() : null,
    market_as_of: marketAsOf,
    warnings: prepared.warnings,
    rules: result.outcomes,
    signals: result.signals,
    event,
  };
}

function utilization(u: number | null): string {
  if (u === null) return 'n/a';
  // Missing market data measures a sentinel age: a percentage of it would be noise.
  return u >= 100 ? '>9999%' : `${(u * 100).toFixed(1)}%`;
}

/** Left-aligned columns, two spaces apart; the last column is not padded. */
export function formatTable(rows: string[][]): string[] {
  if (rows.length === 0) return [];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) =>
    r
      .map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd(),
  );
}

/** The dry run as readable text: a row per rule and scope unit, the signals, then (if asked) the event. */
export function describeDryRun(run: DryRun, ruleSet: RuleSet, showEvent = false): string[] {
  const out: string[] = [];
  out.push(
    `world ${run.world_id}, snapshot ${run.snapshot_version} (as_of ${run.as_of}), evaluated at ${run.evaluated_at}`,
  );
  out.push(`rules: ${run.ruleset.source} (world ${run.ruleset.world}, version ${run.ruleset.version})`);
  const markets = Object.entries(run.market_as_of);
  out.push(
    `market data: ${markets.length > 0 ? markets.map(([s, t]) => `${s} as of ${t}`).join(', ') : 'none'}`,
  );
  if (run.expired_at)
    out.push(
      `NOTE: the snapshot expired at ${run.expired_at}; at this time the engine would record it and not evaluate it (fail closed). Shown as if fresh.`,
    );
  for (const w of run.warnings) out.push(`warning: ${w}`);
  out.push('');
  const rows: string[][] = [
    ['rule', 'kind', 'mode', 'scope', 'measure', 'limit', 'clear', 'target', 'util', 'verdict', 'proposed'],
  ];
  for (const o of run.rules) {
    const rule = ruleSet.rules.find((r) => r.id === o.rule_id);
    const fmt = (v: number | null | undefined) =>
      formatRuleValue(o.kind, rule ? measureName(rule) : undefined, v);
    const proposed = o.proposed
      ? `${o.proposed.action}${o.proposed.action === 'reduce' ? ` ${(o.proposed.ratio * 100).toFixed(2)}% (${o.proposed.sizing})` : ''}${
          o.proposed.after !== undefined && o.proposed.action === 'reduce'
            ? ` -> ${fmt(o.proposed.after)}`
            : ''
        }`
      : (o.unavailable ?? '');
    rows.push([
      o.rule_id,
      o.kind,
      o.mode,
      o.scope_key,
      fmt(o.measure),
      fmt(o.limit),
      fmt(o.clear),
      fmt(o.target),
      utilization(o.utilization),
      o.verdict,
      proposed,
    ]);
  }
  out.push(...formatTable(rows));
  out.push('');
  if (run.signals.length === 0) out.push('signals: none');
  else {
    out.push('signals:');
    for (const s of run.signals) {
      const size = s.signal.action === 'reduce' ? ` by ${(s.signal.reduction_ratio * 100).toFixed(2)}%` : '';
      const where =
        s.channel === 'enforce'
          ? 'published'
          : s.channel === 'approval'
            ? 'held for approval'
            : s.channel === 'shadow'
              ? 'shadow: stored, not published'
              : 'muted';
      out.push(
        `  ${s.signal.action.toUpperCase()} ${s.signal.strategy_id}${size} (${s.signal.reason}; rules ${s.rule_ids.join(', ')}; ${where})`,
      );
    }
  }
  out.push('');
  if (run.event && showEvent) {
    out.push('exit_signal_emitted that would be published (marked provenance.dry_run):');
    out.push(JSON.stringify(run.event, null, 2));
  } else if (run.event)
    out.push(
      `an exit_signal_emitted with ${run.event.data.signals.length} signal(s) would be published (idempotency key ${run.event.data.idempotency_key}); --show-event prints it`,
    );
  else out.push('no exit_signal_emitted would be published');
  return out;
}

/** `exit-engine evaluate`: the one-shot dry run of a snapshot against the rule sets. */
export const command: CliCommand = {
  name: 'evaluate',
  summary:
    "Dry-run one snapshot (bare, CloudEvent or EventBridge event) against the world's rule set: every rule's measure, limit, clear, target and verdict, and the exit_signal_emitted that would be published. Nothing is stored or published. --now defaults to the snapshot's created_at (else as_of), so a historical snapshot is evaluated as of its own time. A --rules FILE applies to the snapshot's world whatever world it names.",
  usage:
    'exit-engine evaluate --snapshot FILE [--market FILE]... [--rules FILE_OR_DIR] [--now ISO] [--show-event] [--json]',
  async run(argv) {
    const { values } = parseFlags(argv, {
      snapshot: { type: 'string' },
      market: { type: 'string', multiple: true },
      rules: { type: 'string' },
      now: { type: 'string' },
      json: { type: 'boolean' },
      'show-event': { type: 'boolean' },
    });
    const file = requiredFlag('snapshot', values.snapshot);
    const flagNow = isoFlag(values.now);
    const { registry } = loadRuleSets(values.rules ?? DEFAULT_RULES);
    const data = await loadSnapshotFile(file);
    const market = await Promise.all((values.market ?? []).map(loadMarketFile));
    const ruleSet = registry.forWorld(data.world_id);
    if (!ruleSet)
      throw new InputError(
        `no rule set for world '${data.world_id}' in ${values.rules ?? DEFAULT_RULES} and no default rule set`,
      );
    const nowMs = flagNow ?? Date.parse(data.created_at ?? data.as_of);
    await loadRuleKinds(ruleSet.rules);
    const run = dryRun({ data, ruleSet, market, nowMs });
    if (values.json) console.log(JSON.stringify(run, null, 2));
    else console.log(describeDryRun(run, ruleSet, values['show-event'] ?? false).join('\n'));
    return 0;
  },
};
