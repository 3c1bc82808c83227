/**
 * Write units per evaluation (issue 10, "Scale and cost"), measured on DynamoDB Local through the
 * local pipeline (real SDK client → local bus → the Lambda handlers): every DynamoDB call the engine
 * makes asks for its consumed capacity (bench/capacity-meter.ts). Worlds of 20 strategies, a ~22 KB
 * snapshot (20 daily return series of 40 points and the full 20×20 covariance inline), under two rule
 * sets: the default one (a world-scope VaR limit, so a breach cuts all 20, and a stress drawdown
 * limit: no rule a later evaluation can change, so the store keeps only the weights and market
 * re-evaluations stop before claiming, lib/engine/snapshot-reuse.ts) and the default plus a VIX rule
 * (market data: the whole body is kept for market re-evaluation). Every figure is taken for both.
 *
 * - silent, new content: a hub snapshot whose returns changed; nothing fires.
 * - silent, heartbeat: a new hub snapshot (as_of, version, hash) over the same weights, covariance
 *   and returns, as a hub re-publishing within its ttl sends; nothing fires.
 * - silent, market: a market event re-evaluating the world's latest snapshot; nothing fires.
 * - published, 20 signals: breach and calm alternate, so each snapshot publishes 20 signals (20
 *   reduces, then 20 holds).
 */
import { readFileSync } from 'node:fs';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { tableNames } from '#lib/adapters/dynamodb/create-tables.js';
import { DynamoDbEngineStore } from '#lib/adapters/dynamodb/engine-store.js';
import type { Outcome } from '#lib/engine/engine.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION, localDocumentClient } from '#lib/local/dynamodb-server.js';
import { startLocalStack } from '#lib/local/local-stack.js';
import { parseRuleSet } from '#lib/rules/ruleset-loader.js';
import { RuleSetRegistry } from '#lib/rules/ruleset-registry.js';
import { breakdown, type CapacityEntry, meterClient, totals } from './capacity-meter.js';
import { calibratedBody, hubSnapshotEntry, marketEntry } from './hub-entries.js';
import type { BenchFigure } from './types.js';
import { defaultWithVix } from './vix-rule-set.js';

const STRATEGIES = Array.from({ length: 20 }, (_, i) => `strategy-${String(i + 1).padStart(2, '0')}`);
const POINTS = 40;
const PREFIX = 'wu-';
/** Worlds whose names end in this run the default rule set plus a market rule (VIX 18 stays calm). */
const MARKET = '-market';

function ruleSets(worlds: readonly string[]): RuleSetRegistry {
  return new RuleSetRegistry([
    parseRuleSet(readFileSync('rulesets/default.yaml', 'utf8'), 'default.yaml'),
    ...worlds.map((w) => defaultWithVix(w)),
  ]);
}

/** The snapshot body at `varLevel` (see calibratedBody), its returns drawn from `seed`. */
function content(varLevel: number, seed: number): ReturnType<typeof calibratedBody> {
  return calibratedBody(STRATEGIES, varLevel, seed, POINTS);
}

function snapshotEntry(
  world: string,
  n: number,
  asOfMs: number,
  body: ReturnType<typeof calibratedBody>,
): PutEventsRequestEntry {
  return hubSnapshotEntry(world, `v${n}`, asOfMs, body);
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
}

/** The sample whose write units are the median, for its breakdown. */
function medianSample(samples: readonly CapacityEntry[][]): CapacityEntry[] {
  const m = median(samples.map((s) => totals(s).writeUnits));
  return samples.find((s) => totals(s).writeUnits === m) ?? samples[0] ?? [];
}

export async function run(opts: { quick?: boolean } = {}): Promise<BenchFigure[]> {
  const reps = opts.quick ? 3 : 9;
  let meter: { entries: CapacityEntry[] } | undefined;
  const tables = tableNames(PREFIX);
  const stack = await startLocalStack({
    clock: 'wall',
    tablePrefix: PREFIX,
    ruleSets: ruleSets([`w-silent${MARKET}`, `w-publish${MARKET}`]),
    overrides: (base) => {
      const client = localDocumentClient(process.env.DYNAMODB_ENDPOINT!);
      meter = meterClient(client);
      return { ...base, store: new DynamoDbEngineStore(client, tables, true) };
    },
  });
  const bus = new EventBridgeClient({
    endpoint: stack.busEndpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  try {
    if (stack.dynamoKind !== 'dynamodb-local')
      throw new Error(`the write-units bench needs DynamoDB Local (Java); got ${stack.dynamoKind}`);
    let t = Date.now() - 3_600_000;
    const tick = () => {
      t += 30_000;
      return t;
    };
    const samples: Record<string, CapacityEntry[][]> = {};
    const add = (k: string, entries: CapacityEntry[]) => {
      samples[k] ??= [];
      samples[k].push(entries);
    };
    /** Sends one event, waits for the pipeline to finish, and returns what its DynamoDB calls cost. */
    const measure = async (entry: PutEventsRequestEntry, expect: (o: Outcome) => boolean) => {
      const outcomesBefore = stack.outcomes.length;
      meter!.entries.length = 0;
      const out = await bus.send(new PutEventsCommand({ Entries: [entry] }));
      if (out.FailedEntryCount) throw new Error('PutEvents refused the bench event');
      await stack.bus.drain();
      const outcomes = stack.outcomes.slice(outcomesBefore);
      if (outcomes.length !== 1 || !expect(outcomes[0]!))
        throw new Error(`unexpected outcome(s): ${JSON.stringify(outcomes)}`);
      return [...meter!.entries];
    };
    const silent = (o: Outcome) => o.outcome === 'no_signal';
    const published = (o: Outcome) => o.outcome === 'published' && o.signals === STRATEGIES.length;

    const calm = content(0.014, 1);
    let n = 0;
    for (const kind of ['', MARKET]) {
      // Silent world: the first snapshot registers the world (not measured).
      const quiet = `w-silent${kind}`;
      await measure(snapshotEntry(quiet, n++, tick(), calm), silent);
      for (let i = 0; i < reps; i++) {
        add(
          `silentNew${kind}`,
          await measure(snapshotEntry(quiet, n++, tick(), content(0.014, 100 + i)), silent),
        );
        const same = content(0.014, 100 + i);
        add(`silentHeartbeat${kind}`, await measure(snapshotEntry(quiet, n++, tick(), same), silent));
        add(
          `silentMarket${kind}`,
          await measure(
            marketEntry({ id: `mkt-${quiet}-${i}`, asOfMs: tick(), vix: 18, world: quiet }),
            silent,
          ),
        );
      }
      // Publishing world: breach, calm, breach, ... each publishes 20 signals.
      const loud = `w-publish${kind}`;
      await measure(snapshotEntry(loud, n++, tick(), calm), silent);
      for (let i = 0; i < reps; i++) {
        const level = i % 2 === 0 ? 0.04 : 0.01;
        add(
          `published${kind}`,
          await measure(snapshotEntry(loud, n++, tick(), content(level, 200 + i)), published),
        );
      }
    }

    const rows: [string, string, number][] = [
      ['silentNew', 'silent evaluation, hub snapshot with new content', 10],
      ['silentHeartbeat', 'silent evaluation, hub snapshot with unchanged content', 10],
      ['silentMarket', 'silent evaluation, market re-evaluation', 10],
      ['published', 'published 20-signal evaluation (hub snapshot)', 80],
    ];
    const cases = [
      ['', 'default rule set, no market rule'],
      [MARKET, 'default rule set plus a market rule'],
    ].flatMap(([kind, ruleSet]) =>
      rows.map(
        ([key, label, budget]) => [`${label}, ${ruleSet}`, samples[`${key}${kind}`]!, budget] as const,
      ),
    );
    const short = (s: string) => s.replaceAll(PREFIX, '').replaceAll('exit-engine-', '');
    const figures: BenchFigure[] = [];
    for (const [label, list, budget] of cases) {
      const units = list.map((s) => totals(s).writeUnits);
      const est = median(list.map((s) => totals(s).estimatedWriteUnits));
      const reads = median(list.map((s) => totals(s).readUnits));
      const m = median(units);
      const detail = breakdown(
        medianSample(list).map((e) => ({
          ...e,
          tables: e.tables.map(short),
          ...(e.items ? { items: e.items.map(short) } : {}),
        })),
      );
      console.log(
        `${label}: ${m} WCU (reads ${reads} RCU; refused-write estimate ${est})\n  ${detail.replaceAll('; ', '\n  ')}`,
      );
      figures.push({
        name: `write units per ${label} (dynamodb-local consumed capacity, ${list.length} runs; ${reads} RCU)`,
        unit: 'WCU',
        median: m,
        budget: `≤ ${budget}`,
        ok: m <= budget,
      });
    }
    return figures;
  } finally {
    bus.destroy();
    await stack.stop();
  }
}
