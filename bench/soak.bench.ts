/**
 * Soak: ≥ 10,000 PutEvents entries through the local pipeline (real SDK client → local bus →
 * the Lambda handlers → DynamoDB Local), with concurrent duplicate bursts, redeliveries,
 * reordering, market events and ≥ 2,000 malformed inputs. Reports what must be zero — lost,
 * duplicated, unrecorded — and the runtime's memory over time, which must stay flat.
 *
 * - lost: an outbox still pending at the end, a delivery dead-lettered, a published signal row the
 *   gateway never saw, or a world whose newest snapshot was never evaluated;
 * - duplicated: extra copies of an exit_signal_emitted idempotency key on the bus;
 * - unrecorded: a malformed input with no rejection in the audit trail.
 *
 * Memory is sampled ten times, each time before and after a full garbage collection (forced through the
 * inspector, so no `--expose-gc` flag): the V8 heap used after it is what the process retains (the
 * handlers, the local bus and runtime, and this bench's own count of what it saw). RSS without it mostly
 * follows how far V8 let its heap grow with garbage it had not collected yet (README, "Soak").
 */
import './quiet-powertools.js';
import { readFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { scanAll } from '#lib/adapters/dynamodb/document.js';
import { fromStoredRow } from '#lib/adapters/dynamodb/signal-rows.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION, localDocumentClient } from '#lib/local/dynamodb-server.js';
import { LOCAL_BUS_NAME, startLocalStack } from '#lib/local/local-stack.js';
import { findPendingOutboxes } from '#lib/local/resume-outboxes.js';
import { engineLogger } from '#lib/observability.js';
import { mulberry32 } from '#lib/prng.js';
import { HUB_SOURCE, hubSnapshotEntry, marketEntry } from './hub-entries.js';
import type { BenchFigure } from './types.js';

const WORLDS = 20;
const WEIGHTS = { alpha: 0.5, beta: 0.3, gamma: 0.2 };

interface Send {
  entry: PutEventsRequestEntry;
  kind: 'snapshot' | 'market' | 'malformed';
  /** Sent this many times at once (a concurrent duplicate burst). */
  burst: number;
}

function snapshotEntry(world: string, i: number, asOfMs: number): PutEventsRequestEntry {
  // Alternating breach and calm: every snapshot opens or closes an episode, so each publishes.
  const varLevel = i % 2 === 0 ? 0.04 : 0.01;
  const sigmaP = varLevel / 2.3263478740408408;
  const v = (sigmaP * sigmaP) / 0.38;
  return hubSnapshotEntry(world, `v${i}`, asOfMs, {
    weights: WEIGHTS,
    covariance: {
      'alpha,alpha': v,
      'beta,beta': v,
      'gamma,gamma': v,
      'alpha,beta': 0,
      'alpha,gamma': 0,
      'beta,gamma': 0,
    },
  });
}

/** Schema-invalid but well-formed JSON, so the bus accepts it and the handler must record it. */
function malformedEntry(n: number, rand: () => number): PutEventsRequestEntry {
  const good = JSON.parse(snapshotEntry(`w${n % WORLDS}`, 1, Date.now()).Detail!) as {
    data: Record<string, unknown>;
  } & Record<string, unknown>;
  const variants: Array<() => unknown> = [
    () => ({ ...good, data: { ...good.data, weights: { a: 0.2, b: 0.2 } } }),
    () => ({ ...good, specversion: '0.3' }),
    () => ({ ...good, data: { ...good.data, as_of: 'yesterday' } }),
    () => ({ ...good, data: undefined }),
    () => ({ hello: 'world', n }),
    () => ({ ...good, data: { ...good.data, realized_returns: { alpha: ['x'] } } }),
    () => ({ ...good, data: { ...good.data, world_id: 42 } }),
  ];
  return {
    EventBusName: LOCAL_BUS_NAME,
    Source: HUB_SOURCE,
    DetailType: 'risk_snapshot_updated',
    Detail: JSON.stringify(variants[Math.floor(rand() * variants.length)]!()),
  };
}

/** The traffic: snapshots (some in bursts, some redelivered, locally reordered), market, malformed. */
function plan(
  target: number,
  minMalformed: number,
  rand: () => number,
): { sends: Send[]; entries: number; newest: Map<string, string> } {
  const malformed = Math.max(minMalformed, Math.round(target * 0.2));
  const market = Math.round(target * 0.03);
  const sends: Send[] = [];
  const newest = new Map<string, string>();
  const start = Date.now() - 6 * 3_600_000;
  let entries = malformed + market;
  const perWorld: Send[][] = Array.from({ length: WORLDS }, () => []);
  for (let i = 1; entries < target; i++) {
    for (let w = 0; w < WORLDS && entries < target; w++) {
      const world = `soak-w${w}`;
      const burst = rand() < 0.08 ? 8 : 1;
      const send: Send = { entry: snapshotEntry(world, i, start + i * 1_000), kind: 'snapshot', burst };
      perWorld[w]!.push(send);
      newest.set(world, `v${i}`);
      entries += burst;
      if (rand() < 0.25 && entries < target) {
        perWorld[w]!.push({ ...send, burst: 1 }); // a later redelivery
        entries += 1;
      }
    }
  }
  // Reordering: swap neighbours within a world now and then (an older snapshot arrives late).
  for (const list of perWorld)
    for (let k = 1; k < list.length; k++)
      if (rand() < 0.15) [list[k - 1], list[k]] = [list[k]!, list[k - 1]!];
  // Interleave worlds round-robin, then sprinkle market and malformed inputs through the stream.
  const maxLen = Math.max(...perWorld.map((l) => l.length));
  for (let k = 0; k < maxLen; k++) for (const list of perWorld) if (list[k]) sends.push(list[k]!);
  const extra: Send[] = [
    ...Array.from(
      { length: market },
      (_, n): Send => ({
        entry: marketEntry({ id: `mkt-${n}`, asOfMs: start + n * 5_000, vix: 18 + (n % 7) }),
        kind: 'market',
        burst: 1,
      }),
    ),
    ...Array.from(
      { length: malformed },
      (_, n): Send => ({ entry: malformedEntry(n, rand), kind: 'malformed', burst: 1 }),
    ),
  ];
  for (const e of extra) sends.splice(Math.floor(rand() * (sends.length + 1)), 0, e);
  return { sends, entries, newest };
}

function jvmRssMb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);

/** One memory sample of this process, before and after a full garbage collection, and the JVM's. */
interface MemorySample {
  sent: number;
  /** RSS as found, garbage included. */
  node_mb: number;
  /** RSS right after a full garbage collection. */
  node_gc_mb: number;
  /** V8 heap used after it: what the process's JavaScript retains. */
  heap_gc_mb: number;
  jvm_mb?: number;
}

async function sampleMemory(
  inspector: Session,
  sent: number,
  jvmPid: number | undefined,
): Promise<MemorySample> {
  const found = process.memoryUsage.rss();
  await inspector.post('HeapProfiler.collectGarbage');
  const after = process.memoryUsage();
  const jvm = jvmRssMb(jvmPid);
  return {
    sent,
    node_mb: mb(found),
    node_gc_mb: mb(after.rss),
    heap_gc_mb: mb(after.heapUsed),
    ...(jvm !== undefined ? { jvm_mb: jvm } : {}),
  };
}

/** Runs the soak; `quick` sends ~2,500 entries instead of ~10,000. */
export async function run(opts: { quick?: boolean } = {}): Promise<BenchFigure[]> {
  const target = opts.quick ? 2_500 : 10_000;
  const rand = mulberry32(9);
  const { sends, entries, newest } = plan(target, opts.quick ? 0 : 2_000, rand);
  const stack = await startLocalStack({ clock: 'wall', tablePrefix: 'soak-' });
  // Publishes whose PutEvents got no answer (outbox.ts warns): the one case in which the engine may put
  // an event on the bus twice, by design (README, "what the gateway cannot rely on").
  let ambiguousPublishes = 0;
  const warn = engineLogger.warn;
  engineLogger.warn = (message, extra) => {
    if (message.startsWith('PutEvents gave no answer')) ambiguousPublishes++;
    warn(message, extra);
  };
  const client = new EventBridgeClient({
    endpoint: stack.busEndpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  const seen = new Map<string, number>();
  const seenIds = new Set<string>();
  stack.onEmitted((e) => {
    const key = (e.detail as { data: { idempotency_key: string } }).data.idempotency_key;
    seen.set(key, (seen.get(key) ?? 0) + 1);
    seenIds.add((e.detail as { id: string }).id);
  });
  const malformedIds = new Set<string>();
  const rss: MemorySample[] = [];
  const inspector = new Session();
  inspector.connect();
  let sent = 0;
  let refused = 0;
  const t0 = performance.now();
  try {
    // Eight producers at once; each put is one PutEvents call (a burst is eight concurrent calls).
    let next = 0;
    const sampleEvery = Math.ceil(entries / 10);
    const producer = async () => {
      for (;;) {
        const i = next++;
        if (i >= sends.length) return;
        const s = sends[i]!;
        const results = await Promise.all(
          Array.from({ length: s.burst }, () => client.send(new PutEventsCommand({ Entries: [s.entry] }))),
        );
        for (const out of results) {
          const r = out.Entries?.[0];
          if (!r?.EventId) refused++;
          else if (s.kind === 'malformed') malformedIds.add(r.EventId);
        }
        const before = sent;
        sent += s.burst;
        if (Math.floor(before / sampleEvery) !== Math.floor(sent / sampleEvery)) {
          const m = await sampleMemory(inspector, sent, stack.jvmPid);
          rss.push(m);
          console.log(
            `  soak: ${sent}/${entries} entries, node rss ${m.node_mb} MB (after GC ${m.node_gc_mb} MB, heap used ${m.heap_gc_mb} MB)${m.jvm_mb ? `, jvm ${m.jvm_mb} MB` : ''}`,
          );
        }
        // Keep the bus from running unboundedly ahead of the handlers (as Lambda concurrency would).
        while (stack.bus.pendingDeliveries > 64) await new Promise((r) => setTimeout(r, 5));
      }
    };
    await Promise.all(Array.from({ length: 8 }, producer));
    await stack.bus.drain();
    const seconds = (performance.now() - t0) / 1000;

    // What must be zero.
    const dynamo = new DynamoDBClient({
      endpoint: stack.dynamoEndpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    const doc = localDocumentClient(stack.dynamoEndpoint);
    // What the scheduled outbox sweeper does in AWS (every minute; `npm start -- --keep-running` every
    // 30 s): outboxes a publish deferred or could not finish are completed once their lease runs out.
    // Counted apart, and anything still pending after three minutes of sweeping is lost.
    let sweptByTheSweeper = 0;
    const sweepUntil = Date.now() + 180_000;
    let pending = await findPendingOutboxes(dynamo, stack.tables.state);
    while (pending.length > 0 && Date.now() < sweepUntil) {
      await new Promise((r) => setTimeout(r, 2_000));
      sweptByTheSweeper += (await stack.engine.sweepOutboxes({ invocationId: `soak-sweep-${Date.now()}` }))
        .published;
      await stack.bus.drain();
      pending = await findPendingOutboxes(dynamo, stack.tables.state);
    }
    const audit = await scanAll(doc, { TableName: stack.tables.audit });
    const signals = (await scanAll(doc, { TableName: stack.tables.signals })).map(fromStoredRow);
    dynamo.destroy();
    const rejected = new Set(audit.filter((r) => r.kind === 'rejection').map((r) => String(r.delivery_id)));
    const evaluated = new Set(
      audit
        .filter((r) => r.kind === 'evaluation')
        .map(
          (r) =>
            `${String(r.world_id)}:${String((r.inputs as { snapshot_version?: unknown } | undefined)?.snapshot_version)}`,
        ),
    );
    const unseenPublished = signals.filter(
      (s) => s.status === 'published' && !seenIds.has(String(s.event_id)),
    ).length;
    const newestMissing = [...newest].filter(([w, v]) => !evaluated.has(`${w}:${v}`)).length;
    const lost = pending.length + stack.bus.deadLetterCount + unseenPublished + newestMissing;
    for (const d of stack.bus.deadLetters().slice(0, 5))
      console.log(
        `  soak: dead letter ${d.ruleName}/${d.targetId} after ${d.attempts} attempts: ${String((d.error as Error)?.message ?? d.error)}`,
      );
    const duplicated = [...seen.values()].reduce((n, c) => n + (c - 1), 0);
    const unrecorded = [...malformedIds].filter((id) => !rejected.has(id)).length + refused;

    const third = rss[Math.floor(rss.length / 3)] ?? rss[0]!;
    const last = rss.at(-1)!;
    const growth = (key: 'node_mb' | 'node_gc_mb' | 'heap_gc_mb') => last[key] - third[key];
    console.log(
      `  soak: ${entries} entries (${malformedIds.size} malformed, ${sends.filter((s) => s.kind === 'market').length} market, ${sends.filter((s) => s.burst > 1).length} bursts of 8) in ${seconds.toFixed(0)} s; ` +
        `${seen.size} distinct exit_signal_emitted`,
    );
    console.log(
      `  soak: outboxes completed by the sweeper after the run: ${sweptByTheSweeper}\n` +
        `  soak: lost ${lost} (pending outboxes ${pending.length}, dead letters ${stack.bus.deadLetterCount}, published but unseen ${unseenPublished}, newest snapshot unevaluated ${newestMissing}); duplicated ${duplicated} (PutEvents calls with no answer, which may duplicate by design: ${ambiguousPublishes}); unrecorded ${unrecorded}`,
    );
    console.log(
      `  soak: memory over time (entries: node rss MB / rss after GC / heap used after GC${last.jvm_mb !== undefined ? ' / jvm rss' : ''}): ${rss.map((r) => `${r.sent}:${r.node_mb}/${r.node_gc_mb}/${r.heap_gc_mb}${r.jvm_mb !== undefined ? `/${r.jvm_mb}` : ''}`).join(' ')}`,
    );
    return [
      { name: 'soak lost', unit: 'events', median: lost, budget: '= 0', ok: lost === 0 },
      { name: 'soak duplicated', unit: 'events', median: duplicated, budget: '= 0', ok: duplicated === 0 },
      { name: 'soak unrecorded', unit: 'inputs', median: unrecorded, budget: '= 0', ok: unrecorded === 0 },
      // What a leak grows: the heap the process retains after a full collection, and its RSS then. A leak of
      // 3 KB per entry is 18 MB over the last two thirds of the full run (quick: 10 KB per entry).
      {
        name: 'soak node heap used after GC growth (last 2/3)',
        unit: 'MB',
        median: growth('heap_gc_mb'),
        budget: '< 16 MB',
        ok: growth('heap_gc_mb') < 16,
      },
      {
        name: 'soak node rss after GC growth (last 2/3)',
        unit: 'MB',
        median: growth('node_gc_mb'),
        budget: '< 64 MB',
        ok: growth('node_gc_mb') < 64,
      },
      // RSS as found: mostly how much garbage V8 let accumulate before its last collection (README, "Soak").
      {
        name: 'soak node rss growth without GC (last 2/3)',
        unit: 'MB',
        median: growth('node_mb'),
        budget: 'info',
        ok: true,
      },
      {
        name: 'soak throughput',
        unit: 'entries/s',
        median: Math.round(entries / seconds),
        budget: 'info',
        ok: true,
      },
    ];
  } finally {
    engineLogger.warn = warn;
    inspector.disconnect();
    client.destroy();
    await stack.stop();
  }
}
