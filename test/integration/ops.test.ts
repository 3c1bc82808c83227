import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoDbEngineStore } from '#lib/adapters/dynamodb/engine-store.js';
import { DynamoDbOpsStore } from '#lib/adapters/dynamodb/ops-store.js';
import { eventBridgeClient } from '#lib/adapters/eventbridge/put-events.js';
import { EventBridgeSignalPublisher } from '#lib/adapters/eventbridge/signal-publisher.js';
import { forwardEmitted, loopbackUrl } from '#lib/cli/commands/local.js';
import { main } from '#lib/cli/main.js';
import type { ExitSignalProposedEvent } from '#lib/contracts/exit-signal.js';
import {
  catalogFrom,
  OpsConflictError,
  OpsNotFoundError,
  OpsService,
  OpsValidationError,
  TIMEOUT_ACTOR,
} from '#lib/engine/ops.js';
import type { AuditRecord, OpsSignalItem, SignalPublisher } from '#lib/engine/ports.js';
import { createOpsHandler } from '#lib/handlers/ops-handler.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION, localDocumentClient } from '#lib/local/dynamodb-server.js';
import type { EventBridgeEvent } from '#lib/local/local-event-bus.js';
import { LOCAL_BUS_NAME, lambdaContext } from '#lib/local/local-stack.js';
import { loadRuleSetDirectory } from '#lib/rules/ruleset-loader.js';
import { upstreamValidator } from '#test/support/upstream-schemas.js';
import { serveWebhook } from '../../examples/gateway-consumer.js';
import { functionUrlEvent } from './support/function-url.js';
import { startPipeline } from './support/pipeline.js';
import { proposedEventValidator } from './support/proposed-schema.js';
import { putEntry } from './support/snapshots.js';

const RULES = 'test/fixtures/rulesets/ops';
/** Audit records are free-form beyond their keys; the assertions read them as such. */
// biome-ignore lint/suspicious/noExplicitAny: free-form audit fields, read by assertions only
type Loose = Record<string, any>;
const LEASE_MS = 2_000;
const T0 = Date.now();

/** A local pipeline whose clock the test moves, plus the ops service over the same tables and bus. */
async function startOps() {
  const clock = { now: T0 };
  const pipeline = await startPipeline({ name: 'ops', rulesetsPath: RULES, clock: () => clock.now });
  const { stack } = pipeline;
  const proposed: EventBridgeEvent[] = [];
  stack.bus.putRule({
    name: 'proposed-recorder',
    eventBusName: LOCAL_BUS_NAME,
    eventPattern: { 'detail-type': ['exit_signal_proposed'] },
    targets: [{ id: 'ops-tooling', invoke: async (e) => void proposed.push(e) }],
  });
  const dynamo = localDocumentClient(stack.dynamoEndpoint);
  const store = new DynamoDbOpsStore(dynamo, stack.tables, stack.config.EXIT_ENGINE_DYNAMODB_TRANSACTIONS);
  // The engine's publisher as the functions wire it (PutEvents over aws-json); the pipeline's SDK client puts the test's input.
  const publisher = new EventBridgeSignalPublisher(
    eventBridgeClient({
      endpoint: stack.busEndpoint,
      region: LOCAL_REGION,
      credentials: () => LOCAL_CREDENTIALS,
    }),
    LOCAL_BUS_NAME,
    { baseDelayMs: 1 },
  );
  const opsWith = (p: SignalPublisher) =>
    new OpsService({
      store,
      catalog: catalogFrom(loadRuleSetDirectory(RULES), new DynamoDbEngineStore(dynamo, stack.tables)),
      publisher: p,
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
      metrics: { count: () => undefined, measure: () => undefined },
      engineVersion: 'test',
      leaseMs: LEASE_MS,
      auditRetentionDays: 30,
    });
  const put = async (world: string, version: string, varLevel: number, atMs = clock.now) => {
    clock.now = atMs;
    const entry = putEntry(
      { world, version, asOf: new Date(atMs - 10_000).toISOString(), varLevel },
      LOCAL_BUS_NAME,
    );
    await pipeline.put(entry);
  };
  // From the base table (a scan), not the by-world index: what a test asserts must not wait on an index.
  const signals = async (world: string) =>
    (await store.listSignals({}))
      .filter((s) => s.world_id === world)
      .sort((a, b) => a.strategy_id.localeCompare(b.strategy_id));
  return {
    stack,
    clock,
    store,
    ops: opsWith(publisher),
    opsWith,
    put,
    emitted: pipeline.emitted,
    proposed,
    signals,
    stop: pipeline.stop,
  };
}

type Ops = Awaited<ReturnType<typeof startOps>>;

/** Runs the CLI as a person would, against the runtime the endpoints file names, capturing what it prints. */
async function runCli(endpoints: string, argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a) => void err.push(a.join(' ')));
  try {
    const code = await main([...argv, '--endpoints', endpoints]);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

const at = (t: Ops, plusMs: number) => ({ nowMs: t.clock.now + plusMs });

describe('ops guards through the local pipeline', () => {
  let t: Ops;
  beforeAll(async () => {
    t = await startOps();
  });
  afterAll(async () => t?.stop());

  it('stores approval signals as proposed and announces them with a schema-valid exit_signal_proposed', async () => {
    await t.put('w-approve', 'v1', 0.03);
    expect(t.emitted('w-approve')).toHaveLength(0);
    const rows = await t.signals('w-approve');
    expect(rows.map((r) => r.status)).toEqual(['proposed', 'proposed', 'proposed']);
    const announced = t.proposed
      .map((e) => e.detail as ExitSignalProposedEvent)
      .filter((e) => e.data.world_id === 'w-approve');
    expect(announced).toHaveLength(1);
    const validate = proposedEventValidator();
    expect(validate(announced[0]), JSON.stringify(validate.errors)).toBe(true);
    expect(announced[0]!.data.proposals.map((p) => p.signal_id).sort()).toEqual(
      rows.map((r) => r.signal_id).sort(),
    );
  });

  it('approve publishes exactly one upstream-valid exit_signal_emitted, tagged with the approver', async () => {
    const [first] = await t.signals('w-approve');
    const result = await t.ops.approve(first!.signal_id, {
      actor: 'alice',
      reason: 'confirmed breach',
      ...at(t, 60_000),
    });
    expect(result.outcome).toBe('published');
    const events = t.emitted('w-approve');
    expect(events).toHaveLength(1);
    const event = events[0]!;
    expect(upstreamValidator().exitSignal(event)).toBe('');
    expect(event.id).toBe((result as { event_id: string }).event_id);
    expect(event.data.signals).toHaveLength(1);
    expect(event.data.signals[0]).toMatchObject({
      strategy_id: first!.strategy_id,
      action: 'exit',
      reduction_ratio: 1,
    });
    expect(event.data.signals[0]!.tags).toContain('approved_by:alice');
    expect(event.data.idempotency_key).toMatch(
      new RegExp(`^exit_signal_emitted:w-approve:v1:1:[0-9a-f]{16}:approval:${first!.strategy_id}$`),
    );
    expect(event.data.provenance).toMatchObject({
      trigger: 'approval',
      ruleset_version: expect.any(String),
      approval: {
        approved_by: 'alice',
        reason: 'confirmed breach',
        approved_at: new Date(t.clock.now + 60_000).toISOString(),
      },
    });
    const row = await t.store.getSignal(first!.signal_id);
    expect(row).toMatchObject({ status: 'published', event_id: event.id, decided_by: 'alice' });

    // Deciding again is refused, and publishes nothing more.
    await expect(
      t.ops.approve(first!.signal_id, { actor: 'bob', reason: 'again', ...at(t, 61_000) }),
    ).rejects.toThrow(/already approved by alice.*published/);
    await expect(
      t.ops.reject(first!.signal_id, { actor: 'bob', reason: 'no', ...at(t, 61_000) }),
    ).rejects.toBeInstanceOf(OpsConflictError);
    expect(t.emitted('w-approve')).toHaveLength(1);
  });

  it('a failed publish leaves the approval stored; the sweep completes it once, and nothing publishes it twice', async () => {
    const [, second] = await t.signals('w-approve');
    const failing = t.opsWith({ publish: () => Promise.reject(new Error('bus down')) });
    const result = await failing.approve(second!.signal_id, {
      actor: 'alice',
      reason: 'ok',
      ...at(t, 70_000),
    });
    expect(result.outcome).toBe('approved_publish_pending');
    expect((await t.store.getSignal(second!.signal_id))?.status).toBe('approved');
    expect(t.emitted('w-approve')).toHaveLength(1);

    const sweep = await t.ops.expireDue(t.clock.now + 71_000);
    expect(sweep.republished).toEqual([second!.signal_id]);
    expect(t.emitted('w-approve')).toHaveLength(2);
    expect(t.emitted('w-approve')[1]!.id).toBe((result as { event_id: string }).event_id);
    expect((await t.store.getSignal(second!.signal_id))?.status).toBe('published');
    await t.ops.expireDue(t.clock.now + 72_000);
    expect(t.emitted('w-approve')).toHaveLength(2);
  });

  it('refuses unknown ids and empty reasons with typed errors', async () => {
    await expect(
      t.ops.approve('sig-nope', { actor: 'alice', reason: 'x', ...at(t, 1) }),
    ).rejects.toBeInstanceOf(OpsNotFoundError);
    await expect(t.ops.approve('sig-nope', { actor: 'alice', reason: 'x', ...at(t, 1) })).rejects.toThrow(
      /no signal with id 'sig-nope'/,
    );
    const [, , third] = await t.signals('w-approve');
    await expect(
      t.ops.approve(third!.signal_id, { actor: 'alice', reason: '  ', ...at(t, 1) }),
    ).rejects.toBeInstanceOf(OpsValidationError);
  });

  it('reject closes a proposal and publishes nothing', async () => {
    await t.put('w-reject', 'v1', 0.03);
    const [first] = await t.signals('w-reject');
    const rejected = await t.ops.reject(first!.signal_id, {
      actor: 'alice',
      reason: 'false alarm: stale covariance',
      ...at(t, 30_000),
    });
    expect(rejected.status).toBe('rejected');
    expect(await t.store.getSignal(first!.signal_id)).toMatchObject({
      status: 'rejected',
      decided_by: 'alice',
      decision_reason: 'false alarm: stale covariance',
    });
    await expect(
      t.ops.approve(first!.signal_id, { actor: 'bob', reason: 'x', ...at(t, 31_000) }),
    ).rejects.toThrow(/already rejected by alice/);
    expect(t.emitted('w-reject')).toHaveLength(0);
  });

  it('four eyes: the first approval waits, the same actor is refused, a second actor publishes', async () => {
    await t.put('w-four', 'v1', 0.03);
    const [first] = await t.signals('w-four');
    const one = await t.ops.approve(first!.signal_id, {
      actor: 'alice',
      reason: 'looks right',
      ...at(t, 10_000),
    });
    expect(one.outcome).toBe('awaiting_second_approval');
    expect(await t.store.getSignal(first!.signal_id)).toMatchObject({
      status: 'proposed',
      approvals: [{ actor: 'alice' }],
    });
    await expect(
      t.ops.approve(first!.signal_id, { actor: 'alice', reason: 'again', ...at(t, 11_000) }),
    ).rejects.toThrow(/two different approvers.*alice has already approved/);
    expect(t.emitted('w-four')).toHaveLength(0);
    const two = await t.ops.approve(first!.signal_id, { actor: 'bob', reason: 'agree', ...at(t, 12_000) });
    expect(two.outcome).toBe('published');
    const [event] = t.emitted('w-four');
    expect(upstreamValidator().exitSignal(event)).toBe('');
    expect(event!.data.signals[0]!.tags).toEqual(
      expect.arrayContaining(['approved_by:alice', 'approved_by:bob']),
    );
  });

  it('a mute stores the breach as muted (not published) until it expires; then a breach publishes', async () => {
    const world = 'w-mute';
    const t1 = t.clock.now;
    const { mute } = await t.ops.mute({
      world,
      rule: 'var_enforce',
      until: new Date(t1 + 3_600_000).toISOString(),
      reason: 'known data issue',
      actor: 'alice',
      nowMs: t1,
    });
    expect((await t.ops.listMutes(world, t1)).map((m) => m.mute_id)).toEqual([mute.mute_id]);
    // The same request again is the same mute.
    const again = await t.ops.mute({
      world,
      rule: 'var_enforce',
      until: mute.until,
      reason: 'known data issue',
      actor: 'alice',
      nowMs: t1 + 1,
    });
    expect(again).toMatchObject({ created: false, mute: { mute_id: mute.mute_id } });

    await t.put(world, 'v1', 0.03, t1 + 60_000);
    expect(t.emitted(world)).toHaveLength(0);
    const muted = await t.signals(world);
    expect(muted.length).toBeGreaterThan(0);
    for (const s of muted) {
      expect(s).toMatchObject({ status: 'muted', mute_id: mute.mute_id });
      expect(s.tags).toContain(`muted_by:${mute.mute_id}`);
    }
    // The muted episode clears, and after the mute's time a new breach is published.
    await t.put(world, 'v2', 0.01, t1 + 120_000);
    await t.put(world, 'v3', 0.03, t1 + 3_700_000);
    expect((await t.ops.listMutes(world, t1 + 3_700_000)).length).toBe(0);
    const published = t.emitted(world);
    expect(published).toHaveLength(1);
    expect(published[0]!.data.snapshot_version).toBe('v3');
    expect(upstreamValidator().exitSignal(published[0])).toBe('');
  });

  it('refuses a mute without a reason or in the past', async () => {
    const now = t.clock.now;
    await expect(
      t.ops.mute({
        world: 'w',
        until: new Date(now + 1000).toISOString(),
        reason: '',
        actor: 'a',
        nowMs: now,
      }),
    ).rejects.toThrow(/^reason: /);
    await expect(
      t.ops.mute({
        world: 'w',
        until: new Date(now - 1000).toISOString(),
        reason: 'r',
        actor: 'a',
        nowMs: now,
      }),
    ).rejects.toThrow(/^until: .*not in the future/);
  });

  it('unmute ends a mute at once (by selectors or id); a breach then publishes', async () => {
    const world = 'w-unmute';
    const t1 = t.clock.now;
    const { mute } = await t.ops.mute({
      world,
      rule: 'var_enforce',
      until: new Date(t1 + 3_600_000).toISOString(),
      reason: 'deploy window',
      actor: 'alice',
      nowMs: t1,
    });
    await expect(
      t.ops.unmute({
        world,
        rule: 'var_enforce',
        strategy: 'alpha',
        actor: 'bob',
        reason: 'x',
        nowMs: t1 + 1,
      }),
    ).rejects.toBeInstanceOf(OpsNotFoundError);
    await expect(t.ops.unmute({ world, rule: 'var_enforce', actor: 'bob', nowMs: t1 + 1 })).rejects.toThrow(
      /^reason: is required/,
    );
    const ended = await t.ops.unmute({
      world,
      rule: 'var_enforce',
      actor: 'bob',
      reason: 'window over',
      nowMs: t1 + 1_000,
    });
    expect(ended.map((m) => m.mute_id)).toEqual([mute.mute_id]);
    await expect(
      t.ops.unmute({ world, muteId: mute.mute_id, actor: 'bob', reason: 'again', nowMs: t1 + 2_000 }),
    ).rejects.toThrow(/already ended by bob/);
    expect(await t.ops.listMutes(world, t1 + 2_000, true)).toMatchObject([
      { mute_id: mute.mute_id, state: 'ended', ended_by: 'bob' },
    ]);
    await t.put(world, 'v1', 0.03, t1 + 60_000);
    expect(t.emitted(world)).toHaveLength(1);
  });

  it('the ops handler takes the actor from the IAM caller and maps errors to 400/404/409', async () => {
    await t.put('w-handler', 'v1', 0.03);
    const [first] = await t.signals('w-handler');
    const handler = createOpsHandler({ ops: t.ops, clock: () => t.clock.now + 5_000 });
    const arn = 'arn:aws:iam::123456789012:user/risk-ops';
    const call = async (body: unknown, userArn: string | null = arn) =>
      (await handler(functionUrlEvent(body, userArn), lambdaContext('ops-command'))) as {
        statusCode: number;
        body: string;
      };
    const parse = (r: { statusCode: number; body: string }) => ({
      ...JSON.parse(r.body),
      http: r.statusCode,
    });

    expect(parse(await call({ command: 'approve', signal_id: first!.signal_id }))).toMatchObject({
      http: 400,
      ok: false,
      error: expect.stringContaining('reason'),
    });
    expect(
      parse(await call({ command: 'approve', signal_id: first!.signal_id, reason: 'r', actor: 'mallory' })),
    ).toMatchObject({ http: 400, error: expect.stringContaining('actor') });
    expect(parse(await call({ command: 'launch' }))).toMatchObject({
      http: 400,
      error: expect.stringContaining('command'),
    });
    expect(parse(await call('not json'))).toMatchObject({
      http: 400,
      error: expect.stringContaining('body'),
    });
    expect(parse(await call({ command: 'mute', world: 'w-handler', for: '2x', reason: 'r' }))).toMatchObject({
      http: 400,
      error: expect.stringContaining('for:'),
    });
    expect(parse(await call({ command: 'approve', signal_id: 'sig-nope', reason: 'r' }))).toMatchObject({
      http: 404,
    });
    expect(
      parse(await call({ command: 'approve', signal_id: first!.signal_id, reason: 'r' }, null)),
    ).toMatchObject({ http: 403 });

    const ok = parse(await call({ command: 'approve', signal_id: first!.signal_id, reason: 'confirmed' }));
    expect(ok).toMatchObject({ http: 200, ok: true, actor: arn, outcome: 'published' });
    expect(t.emitted('w-handler')[0]!.data.signals[0]!.tags).toContain(`approved_by:${arn}`);
    expect(parse(await call({ command: 'reject', signal_id: first!.signal_id, reason: 'r' }))).toMatchObject({
      http: 409,
      error: expect.stringContaining('already approved'),
    });

    const muted = parse(
      await call({ command: 'mute', world: 'w-handler', rule: 'var_approval', for: '2h', reason: 'test' }),
    );
    expect(muted).toMatchObject({
      http: 200,
      outcome: 'muted',
      mute: { actor: arn, rule_id: 'var_approval' },
    });
  });

  it('the timeout sweep applies each default: emit publishes as system:approval-timeout, drop expires', async () => {
    await t.put('w-timeout-emit', 'v1', 0.03);
    await t.put('w-timeout-drop', 'v1', 0.03);
    const mine = new Set(
      [...(await t.signals('w-timeout-emit')), ...(await t.signals('w-timeout-drop'))].map(
        (s) => s.signal_id,
      ),
    );
    expect(mine.size).toBe(6);
    const before = await t.ops.expireDue(t.clock.now + 60_000);
    expect([...before.emitted, ...before.dropped].filter((id) => mine.has(id))).toEqual([]);
    expect(before.pending).toBeGreaterThanOrEqual(6);
    expect(before.oldest_pending_age_sec).toBe(60);

    const sweep = await t.ops.expireDue(t.clock.now + 601_000);
    const emitRows = await t.signals('w-timeout-emit');
    const dropRows = await t.signals('w-timeout-drop');
    expect(sweep.emitted).toEqual(expect.arrayContaining(emitRows.map((r) => r.signal_id)));
    expect(sweep.dropped).toEqual(expect.arrayContaining(dropRows.map((r) => r.signal_id)));
    expect(emitRows.every((r) => r.status === 'published' && r.decided_by === TIMEOUT_ACTOR)).toBe(true);
    expect(dropRows.every((r) => r.status === 'expired' && r.decided_by === TIMEOUT_ACTOR)).toBe(true);
    const emitted = t.emitted('w-timeout-emit');
    expect(emitted).toHaveLength(3);
    for (const e of emitted) {
      expect(upstreamValidator().exitSignal(e)).toBe('');
      expect(e.data.signals[0]!.tags).toContain(`approved_by:${TIMEOUT_ACTOR}`);
    }
    expect(t.emitted('w-timeout-drop')).toHaveLength(0);
    // Idempotent: a second sweep changes nothing.
    const again = await t.ops.expireDue(t.clock.now + 602_000);
    expect(again.emitted.length + again.dropped.length + again.republished.length).toBe(0);
    expect(t.emitted('w-timeout-emit')).toHaveLength(3);
    await expect(
      t.ops.approve(dropRows[0]!.signal_id, { actor: 'a', reason: 'late', ...at(t, 603_000) }),
    ).rejects.toThrow(/expired without a decision/);
  });

  it('audit: every evaluation and every ops action has its record, with who, why, before and after', async () => {
    const audit = async (world: string) => (await t.store.listAudit(world)) as (AuditRecord & Loose)[];
    const evals = (records: AuditRecord[]) => records.filter((r) => r.kind === 'evaluation') as Loose[];
    const actions = (records: AuditRecord[]) => records.filter((r) => r.kind === 'ops_action') as Loose[];

    const four = await audit('w-four');
    expect(evals(four)).toHaveLength(1);
    expect(evals(four)[0]).toMatchObject({
      decisions: expect.any(Array),
      rules: expect.any(Array),
      published_event_id: null,
    });
    expect(
      actions(four)
        .filter((a) => a.action === 'approve')
        .map((a) => [a.action, a.actor, a.before.status, a.after.status]),
    ).toEqual([
      ['approve', 'alice', 'proposed', 'proposed'],
      ['approve', 'bob', 'proposed', 'approved'],
    ]);

    const approve = await audit('w-approve');
    expect(
      actions(approve)
        .filter((a) => a.action === 'approve')
        .map((a) => [a.action, a.actor, a.reason, a.after.status]),
    ).toEqual([
      ['approve', 'alice', 'confirmed breach', 'approved'],
      ['approve', 'alice', 'ok', 'approved'],
    ]);
    expect(actions(approve)[0]!.after.event_id).toEqual(expect.any(String));

    const reject = await audit('w-reject');
    expect(actions(reject).filter((a) => a.action === 'reject')).toMatchObject([
      {
        action: 'reject',
        actor: 'alice',
        reason: 'false alarm: stale covariance',
        before: { status: 'proposed' },
        after: { status: 'rejected' },
      },
    ]);

    const mute = await audit('w-mute');
    expect(evals(mute)).toHaveLength(3);
    expect(evals(mute)[0]!.decisions.every((d: { status: string }) => d.status === 'muted')).toBe(true);
    expect(evals(mute)[2]!.published_event_id).toBe(t.emitted('w-mute')[0]!.id);
    expect(actions(mute)).toMatchObject([
      {
        action: 'mute',
        actor: 'alice',
        reason: 'known data issue',
        before: null,
        after: { state: 'active', rule_id: 'var_enforce' },
      },
    ]);

    const unmute = await audit('w-unmute');
    expect(actions(unmute).map((a) => [a.action, a.actor, a.before?.state ?? null, a.after.state])).toEqual([
      ['mute', 'alice', null, 'active'],
      ['unmute', 'bob', 'active', 'ended'],
    ]);

    const timeouts = [...actions(await audit('w-timeout-emit')), ...actions(await audit('w-timeout-drop'))];
    expect(timeouts.map((a) => a.action).sort()).toEqual([
      'timeout_drop',
      'timeout_drop',
      'timeout_drop',
      'timeout_emit',
      'timeout_emit',
      'timeout_emit',
    ]);
    expect(timeouts.every((a) => a.actor === TIMEOUT_ACTOR && /deadline .* passed/.test(a.reason))).toBe(
      true,
    );

    // Every signal row's world has an evaluation record naming it.
    for (const world of [
      'w-approve',
      'w-reject',
      'w-four',
      'w-timeout-emit',
      'w-timeout-drop',
      'w-handler',
      'w-mute',
    ]) {
      const records = await audit(world);
      const named = new Set(
        evals(records).flatMap((r) => (r as Loose).decisions.map((d: { signal_id: string }) => d.signal_id)),
      );
      for (const s of await t.signals(world)) expect(named.has(s.signal_id)).toBe(true);
    }
  });
});

describe('ops CLI against a running local stack', () => {
  let t: Ops;
  let dir: string;
  let endpoints: string;
  let proposed: OpsSignalItem[];
  beforeAll(async () => {
    t = await startOps();
    dir = await mkdtemp(join(tmpdir(), 'ops-cli-'));
    endpoints = join(dir, 'endpoints.json');
    await writeFile(endpoints, JSON.stringify({ ...t.stack.env, pid: process.pid }));
    await t.put('w-cli', 'v1', 0.03, Date.now());
    proposed = await t.signals('w-cli');
  });
  afterAll(async () => {
    await t?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** Runs the CLI as a person would, capturing what it prints. */
  const cli = (...argv: string[]) => runCli(endpoints, argv);

  it('pending shows the approval queue with time left', async () => {
    const r = await cli('pending');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^SIGNAL\s+WORLD\s+STRATEGY.*TIME LEFT/);
    for (const s of proposed) expect(r.out).toContain(s.signal_id);
    expect(r.out).toMatch(/1h 00m|59m \d\ds/);
    const json = JSON.parse((await cli('pending', '--json')).out);
    expect(json).toHaveLength(3);
    expect(json[0].time_left_sec).toBeGreaterThan(3500);
  });

  it('approve publishes as local:<user>; signals list and show read it back', async () => {
    const id = proposed[0]!.signal_id;
    const r = await cli('approve', id, '--reason', 'confirmed on the desk');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(new RegExp(`approved ${id} as local:\\S+; published exit_signal_emitted`));
    const events = t.emitted('w-cli');
    expect(events).toHaveLength(1);
    expect(events[0]!.data.signals[0]!.tags!.some((tag) => tag.startsWith('approved_by:local:'))).toBe(true);

    const list = await cli('signals', 'list', '--world', 'w-cli', '--status', 'published');
    expect(list.out).toContain(id);
    const json = JSON.parse(
      (await cli('signals', 'list', '--world', 'w-cli', '--json')).out,
    ) as OpsSignalItem[];
    expect(json.map((s) => s.status).sort()).toEqual(['proposed', 'proposed', 'published']);

    const show = await cli('signals', 'show', id);
    expect(show.code).toBe(0);
    expect(show.out).toContain('approved   by local:');
    expect(show.out).toContain('"rule_id": "var_approval"');
    expect(show.out).toMatch(/ops_action\s+approve/);
    expect(show.out).toMatch(/evaluation\s+snapshot v1/);
  });

  it('reject, mute, mutes, unmute and audit', async () => {
    const id = proposed[1]!.signal_id;
    expect((await cli('reject', id, '--reason', 'not now')).out).toContain(`rejected ${id}`);
    const muted = await cli(
      'mute',
      '--world',
      'w-cli',
      '--rule',
      'var_approval',
      '--for',
      '2h',
      '--reason',
      'calibrating',
    );
    expect(muted.code, muted.err).toBe(0);
    const muteId = /muted: (mute-[0-9a-f]+)/.exec(muted.out)?.[1];
    expect(muteId).toBeDefined();
    const mutes = await cli('mutes', '--world', 'w-cli');
    expect(mutes.out).toContain(muteId);
    expect(mutes.out).toMatch(/1h 59m|2h 00m/);
    expect(
      (await cli('unmute', '--world', 'w-cli', '--id', muteId!, '--reason', 'calibrated')).out,
    ).toContain(`unmuted ${muteId}`);
    expect((await cli('mutes', '--world', 'w-cli')).out).toBe('no active mutes in world w-cli');

    const audit = await cli('audit', '--world', 'w-cli');
    expect(audit.code).toBe(0);
    expect(audit.out).toMatch(/evaluation\s+snapshot v1/);
    expect(audit.out).toMatch(/ops_action\s+approve .* proposed -> approved \(confirmed on the desk\)/);
    expect(audit.out).toMatch(/ops_action\s+reject .* proposed -> rejected \(not now\)/);
    expect(audit.out).toMatch(/ops_action\s+mute .* none -> active \(calibrating\)/);
    expect(audit.out).toMatch(/ops_action\s+unmute .* active -> ended/);
    const since = JSON.parse((await cli('audit', '--world', 'w-cli', '--since', '1h', '--json')).out);
    expect(since.length).toBeGreaterThanOrEqual(5);
  });

  it('a world-wide mute waits for a second person; the same local user cannot approve it', async () => {
    const requested = await cli('mute', '--world', 'w-cli', '--for', '1h', '--reason', 'vendor outage');
    expect(requested.code, requested.err).toBe(0);
    expect(requested.out).toMatch(/awaiting a second approver \(a world-wide mute/);
    const id = /: (mute-[0-9a-f]+) — world w-cli/.exec(requested.out)?.[1];
    expect(id).toBeDefined();
    const self = await cli('mute-approve', '--world', 'w-cli', '--id', id!, '--reason', 'me');
    expect(self.code).toBe(1);
    expect(self.err).toMatch(/needs a second, different person/);
    expect((await cli('mutes', '--world', 'w-cli')).out).toBe('no active mutes in world w-cli');
  });

  it('mistakes get a clear message and a non-zero exit, never a stack trace', async () => {
    const cases: [string[], number, RegExp][] = [
      [['approve', 'sig-typo', '--reason', 'x'], 1, /no signal with id 'sig-typo'/],
      [['approve', proposed[0]!.signal_id, '--reason', 'x'], 1, /already approved by local:.* and published/],
      [['approve', proposed[2]!.signal_id], 2, /--reason is required/],
      [['mute', '--world', 'w-cli', '--for', '2x', '--reason', 'r'], 2, /--for: '2x' is not a duration/],
      [
        ['mute', '--world', 'w-cli', '--until', '2020-01-01T00:00:00Z', '--reason', 'r'],
        2,
        /--until: .* not in the future/,
      ],
      [['mute', '--world', 'w-clii', '--for', '1h', '--reason', 'r'], 1, /unknown world 'w-clii'/],
      [['signals', 'list', '--since', 'yesterdayish'], 2, /--since: 'yesterdayish' is not a time/],
      [['signals', 'list', '--world', 'w-typo'], 1, /unknown world 'w-typo'/],
      [
        ['signals', 'list', '--status', 'done'],
        2,
        /--status: 'done' is not one of pending_publish, published/,
      ],
      [['signals', 'show', 'sig-typo'], 1, /no signal with id 'sig-typo'/],
      [['audit', '--world', 'nowhere'], 1, /unknown world 'nowhere'/],
      [
        ['unmute', '--world', 'w-cli', '--id', 'mute-000', '--reason', 'r'],
        1,
        /no mute 'mute-000' in world 'w-cli'/,
      ],
      [['unmute', '--world', 'w-cli', '--id', 'mute-000'], 1, /reason: is required/],
      [
        ['mute', '--world', 'w-cli', '--rule', 'var_aproval', '--for', '1h', '--reason', 'r'],
        1,
        /rule: 'var_aproval' is not a rule of world 'w-cli' .*did you mean 'var_approval'\?/,
      ],
    ];
    for (const [argv, code, message] of cases) {
      const r = await cli(...argv);
      expect(r.code, `${argv.join(' ')} → ${r.err}`).toBe(code);
      expect(r.err, argv.join(' ')).toMatch(message);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
  });

  it('--forward delivers emitted events to a loopback webhook (the example gateway consumer)', async () => {
    const lines: string[] = [];
    const server = await serveWebhook(0, (line) => lines.push(line));
    let stopForwarding: (() => void) | undefined;
    try {
      const address = server.address() as { port: number };
      stopForwarding = forwardEmitted(t.stack, loopbackUrl(`http://127.0.0.1:${address.port}/exit-signals`));
      const r = await cli('approve', proposed[2]!.signal_id, '--reason', 'forward me');
      expect(r.code, r.err).toBe(0);
      await t.stack.bus.drain();
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^WOULD \[w-cli\] exit \w+ fully \(var_approval\) approved by local:/);
    } finally {
      // Before closing the webhook: later tests' events must not retry against a closed port.
      stopForwarding?.();
      server.close();
    }
  });

  it('approve one id of a world-wide cut warns; --evaluation approves the rest; pending shows evidence', async () => {
    await t.put('w-approve', 'v1', 0.03, Date.now());
    const cut = await t.signals('w-approve');
    expect(cut).toHaveLength(3);
    const pending = await cli('pending', '--world', 'w-approve');
    expect(pending.out).toMatch(/EVIDENCE/);
    expect(pending.out).toMatch(/\d+\.\d\d% > limit 2\.00%/);
    expect(pending.out).toContain(`${cut[0]!.evaluation_key.slice(0, 16)} (world-wide)`);

    const one = await cli('approve', cut[0]!.signal_id, '--reason', 'first leg');
    expect(one.code, one.err).toBe(0);
    expect(one.err).toMatch(
      /warning: 1 of the 3 signals of a world-wide cut in w-approve .*still proposed: .*--evaluation /,
    );

    const rest = await cli(
      'approve',
      '--evaluation',
      cut[0]!.evaluation_key.slice(0, 10),
      '--reason',
      'the rest',
    );
    expect(rest.code, rest.err).toBe(0);
    expect(rest.out.split('\n').filter((l) => l.startsWith('approved '))).toHaveLength(2);
    expect(rest.err).toBe('');
    expect((await t.signals('w-approve')).map((s) => s.status)).toEqual([
      'published',
      'published',
      'published',
    ]);
    const none = await cli('approve', '--evaluation', 'zzzzzzzz', '--reason', 'x');
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/no proposed signals in evaluation 'zzzzzzzz'/);
  });

  it('audit filters before the limit, refuses unknown kinds with a suggestion, and --tail/--newest pick the end', async () => {
    const r = await cli('audit', '--world', 'w-approve', '--kind', 'ops_action', '--limit', '1');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(
      /ops_action\s+approve .* proposed -> published|ops_action\s+approve .* proposed -> approved/,
    );
    expect(r.out).toMatch(/\(1 of 3 matching records/);
    const newest = await cli('audit', '--world', 'w-approve', '--kind', 'ops_action', '--newest', '--json');
    const times = (JSON.parse(newest.out) as { recorded_at: string }[]).map((x) => x.recorded_at);
    expect(times).toEqual([...times].sort().reverse());
    const tail = JSON.parse((await cli('audit', '--world', 'w-approve', '--tail', '1', '--json')).out);
    expect(tail).toHaveLength(1);
    expect(tail[0].kind).toBe('ops_action');
    const bad = await cli('audit', '--world', 'w-approve', '--kind', 'ops_actions');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--kind: 'ops_actions' is not one of .*; did you mean 'ops_action'\?/);
    const evaluation = await cli('audit', '--world', 'w-approve', '--kind', 'evaluation');
    expect(evaluation.out).not.toContain('pending_publish');
    expect(evaluation.out).toMatch(/\[proposed 3\]/);
  });

  it('unknown worlds get a suggestion; --until takes +2h and refuses a bare or past duration; dates are strict', async () => {
    const cases: [string[], number, RegExp][] = [
      [['pending', '--world', 'w-clj'], 1, /unknown world 'w-clj'.*did you mean 'w-cli'\?/],
      [['mutes', '--world', 'w-clj'], 1, /unknown world 'w-clj'.*did you mean 'w-cli'\?/],
      [
        ['mute', '--world', 'w-cli', '--until', '2h', '--reason', 'r'],
        2,
        /--until: '2h' reads as 2h ago.*--until \+2h/,
      ],
      [['mute', '--world', 'w-cli', '--until=-2h', '--reason', 'r'], 2, /--until: '-2h' is in the past/],
      [
        ['signals', 'list', '--since', '2025-02-30'],
        2,
        /--since: '2025-02-30' is not a real date: 2025-02 has no day 30/,
      ],
      [['audit', '--world', 'w-cli', '--since', '2025-13-01'], 2, /month 13 does not exist/],
      [['signals', 'list', '--status', 'publishd'], 2, /did you mean 'published'\?/],
      [['audit', '--world', 'w-cli', '--limit', '2', '--tail', '2'], 2, /not both/],
    ];
    for (const [argv, code, message] of cases) {
      const r = await cli(...argv);
      expect(r.code, `${argv.join(' ')} → ${r.err}`).toBe(code);
      expect(r.err, argv.join(' ')).toMatch(message);
    }
    const muted = await cli('mute', '--world', 'w-cli', '--until', '+2h', '--reason', 'relative');
    expect(muted.code, muted.err).toBe(0);
    expect(muted.out).toMatch(/until .* \((1h 59m|2h 00m)\)/);
  });

  it('says so when the local runtime is missing or not answering', async () => {
    const dead = join(dir, 'dead.json');
    await writeFile(
      dead,
      JSON.stringify({ ...t.stack.env, DYNAMODB_ENDPOINT: 'http://127.0.0.1:9', pid: process.pid }),
    );
    // Both messages are captured, not printed into the test log.
    const err: string[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((...a) => void err.push(a.join(' ')));
    try {
      const missing = await main(['pending', '--endpoints', join(dir, 'none.json')]).catch((e) => e);
      expect(missing).toBe(1);
      expect(await main(['pending', '--endpoints', dead])).toBe(1);
    } finally {
      spy.mockRestore();
    }
    expect(err.join('\n')).toMatch(/not answering; start it again with 'npm start -- --keep-running'/);
  });
});

// On a stack of its own: in the shared CLI stack above, deliveries left in flight by earlier tests
// (three still retrying when this test starts) held the approve call for over a minute.
describe('ops CLI audit wording', () => {
  let t: Ops;
  let dir: string;
  let endpoints: string;
  beforeAll(async () => {
    t = await startOps();
    dir = await mkdtemp(join(tmpdir(), 'ops-cli-wording-'));
    endpoints = join(dir, 'endpoints.json');
    await writeFile(endpoints, JSON.stringify({ ...t.stack.env, pid: process.pid }));
  });
  afterAll(async () => {
    await t?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const cli = (...argv: string[]) => runCli(endpoints, argv);

  it('the first of two four-eyes approvals reads as such in the audit, not proposed -> proposed', async () => {
    await t.put('w-four-audit', 'v1', 0.03);
    const [first] = await t.signals('w-four-audit');
    expect((await cli('approve', first!.signal_id, '--reason', 'one of two')).code).toBe(0);
    const audit = await cli('audit', '--world', 'w-four-audit', '--kind', 'ops_action');
    expect(audit.out).not.toMatch(/proposed -> proposed/);
    expect(audit.out).toMatch(/approve .* still proposed: first of two approvals/);
  });
});
