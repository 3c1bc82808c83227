import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbOpsStore } from '#lib/adapters/dynamodb/ops-store.js';
import { OpsConflictError, OpsNotFoundError, OpsValidationError } from '#lib/engine/ops.js';
import type { AuditRecord } from '#lib/engine/ports.js';
import { createOpsHandler } from '#lib/handlers/ops-handler.js';
import { localDocumentClient } from '#lib/local/dynamodb-server.js';
import { LOCAL_BUS_NAME, lambdaContext } from '#lib/local/local-stack.js';
import { functionUrlEvent } from './support/function-url.js';
import { startPipeline } from './support/pipeline.js';
import { putEntry } from './support/snapshots.js';

/**
 * Four eyes on people, not sessions, and the refusals that keep mutes safe: through the real ops handler and
 * service, on DynamoDB Local and the local bus, with the fixture rule sets in test/fixtures/rulesets/ops.
 */
const RULES = 'test/fixtures/rulesets/ops';
const T0 = Date.now();
const ROLE_SESSION = (role: string, session: string) =>
  `arn:aws:sts::123456789012:assumed-role/${role}/${session}`;

async function start() {
  const clock = { now: T0 };
  const pipeline = await startPipeline({ name: 'ops-safety', rulesetsPath: RULES, clock: () => clock.now });
  const { stack } = pipeline;
  const dynamo = localDocumentClient(stack.dynamoEndpoint);
  const store = new DynamoDbOpsStore(dynamo, stack.tables, stack.config.EXIT_ENGINE_DYNAMODB_TRANSACTIONS);
  const handler = createOpsHandler({ ops: stack.ops, clock: () => clock.now });
  /** One signed call to the ops function URL, as the caller `userArn`. */
  const call = async (
    userArn: string,
    body: Record<string, unknown>,
  ): Promise<Record<string, unknown> & { http: number }> => {
    const r = (await handler(functionUrlEvent(body, userArn), lambdaContext('ops-command'))) as {
      statusCode: number;
      body: string;
    };
    return { http: r.statusCode, ...(JSON.parse(r.body) as Record<string, unknown>) };
  };
  const put = async (world: string, version: string, varLevel: number) => {
    const entry = putEntry(
      { world, version, asOf: new Date(clock.now - 10_000).toISOString(), varLevel },
      LOCAL_BUS_NAME,
    );
    await pipeline.put(entry);
  };
  return {
    stack,
    clock,
    store,
    ops: stack.ops,
    call,
    put,
    emitted: pipeline.emitted,
    stop: pipeline.stop,
  };
}

type Env = Awaited<ReturnType<typeof start>>;
const hour = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

describe('ops safety through the local pipeline', () => {
  let t: Env;
  beforeAll(async () => {
    t = await start();
  });
  afterAll(async () => t?.stop());

  describe('four eyes on people, not sessions', () => {
    it('refuses a second approval from another session of the same role; a second role publishes; both identities are audited', async () => {
      await t.put('w-sessions', 'v1', 0.03);
      const [signal] = await t.store.listSignals({ world_id: 'w-sessions', status: 'proposed' });
      const id = signal!.signal_id;

      const first = await t.call(ROLE_SESSION('ops', 'alice'), {
        command: 'approve',
        signal_id: id,
        reason: 'ok',
      });
      expect(first).toMatchObject({
        http: 200,
        outcome: 'awaiting_second_approval',
        actor: ROLE_SESSION('ops', 'alice'),
        principal: 'arn:aws:iam::123456789012:role/ops',
      });
      const sameRole = await t.call(ROLE_SESSION('ops', 'alice-2'), {
        command: 'approve',
        signal_id: id,
        reason: 'me again',
      });
      expect(sameRole).toMatchObject({
        http: 409,
        ok: false,
        error: expect.stringMatching(
          /two different approvers .*arn:aws:iam::123456789012:role\/ops has already approved it \(as arn:aws:sts::123456789012:assumed-role\/ops\/alice\)/,
        ),
      });
      expect(t.emitted('w-sessions')).toHaveLength(0);

      const other = await t.call(ROLE_SESSION('risk-lead', 'bob'), {
        command: 'approve',
        signal_id: id,
        reason: 'agree',
      });
      expect(other).toMatchObject({ http: 200, outcome: 'published' });
      expect(t.emitted('w-sessions')).toHaveLength(1);

      const stored = await t.store.getSignal(id);
      expect(stored?.approvals).toMatchObject([
        { actor: ROLE_SESSION('ops', 'alice'), principal: 'arn:aws:iam::123456789012:role/ops' },
        { actor: ROLE_SESSION('risk-lead', 'bob'), principal: 'arn:aws:iam::123456789012:role/risk-lead' },
      ]);
      const audit = (await t.store.listAudit('w-sessions')).filter((r) => r.kind === 'ops_action');
      expect(audit.map((r) => [r.action, r.actor, r.principal]).sort()).toEqual([
        ['approve', ROLE_SESSION('ops', 'alice'), 'arn:aws:iam::123456789012:role/ops'],
        ['approve', ROLE_SESSION('risk-lead', 'bob'), 'arn:aws:iam::123456789012:role/risk-lead'],
      ]);
    });
  });

  describe('safe mutes', () => {
    const base = { actor: 'arn:aws:iam::123456789012:user/alice', reason: 'vendor outage' };

    it('refuses a rule that is not in the world rule set, with a did-you-mean', async () => {
      const now = t.clock.now;
      const refused = t.ops.mute({
        ...base,
        world: 'w-short-mutes',
        rule: 'var_99_limt',
        until: iso(now + hour / 2),
        nowMs: now,
      });
      await expect(refused).rejects.toBeInstanceOf(OpsValidationError);
      await expect(refused).rejects.toThrow(
        /^rule: 'var_99_limt' is not a rule of world 'w-short-mutes' \(rule set [^)]+\); did you mean 'var_99_limit'\? \(known: var_99_limit, es_limit\)/,
      );
    });

    it('refuses a strategy that is not in the latest weights, with a did-you-mean, and one it cannot check yet', async () => {
      const now = t.clock.now;
      await expect(
        t.ops.mute({
          ...base,
          world: 'w-short-mutes',
          strategy: 'alpha',
          rule: 'es_limit',
          until: iso(now + hour / 2),
          nowMs: now,
        }),
      ).rejects.toThrow(
        /^strategy: world 'w-short-mutes' has had no snapshot, so strategy 'alpha' cannot be checked/,
      );
      await t.put('w-short-mutes', 'v1', 0.01);
      await expect(
        t.ops.mute({
          ...base,
          world: 'w-short-mutes',
          strategy: 'alpah',
          rule: 'es_limit',
          until: iso(now + hour / 2),
          nowMs: now,
        }),
      ).rejects.toThrow(
        /^strategy: 'alpah' is not a strategy in world 'w-short-mutes' .*did you mean 'alpha'\?/,
      );
      const ok = await t.ops.mute({
        ...base,
        world: 'w-short-mutes',
        strategy: 'alpha',
        rule: 'es_limit',
        until: iso(now + hour / 2),
        nowMs: now,
      });
      expect(ok.outcome).toBe('muted');
    });

    it('refuses a duplicate of an active mute (same selectors, another request)', async () => {
      const now = t.clock.now;
      const first = await t.ops.mute({
        ...base,
        world: 'w-short-mutes',
        rule: 'var_99_limit',
        until: iso(now + hour / 2),
        nowMs: now,
      });
      expect(first.outcome).toBe('muted');
      const duplicate = t.ops.mute({
        ...base,
        actor: 'arn:aws:iam::123456789012:user/bob',
        world: 'w-short-mutes',
        rule: 'var_99_limit',
        until: iso(now + hour / 3),
        reason: 'me too',
        nowMs: now + 1,
      });
      await expect(duplicate).rejects.toBeInstanceOf(OpsConflictError);
      await expect(duplicate).rejects.toThrow(
        new RegExp(`already has an active mute for all strategies, rule var_99_limit: ${first.mute.mute_id}`),
      );
      // The same request again is the same mute, not a duplicate.
      const again = await t.ops.mute({
        ...base,
        world: 'w-short-mutes',
        rule: 'var_99_limit',
        until: first.mute.until,
        nowMs: now + 2,
      });
      expect(again).toMatchObject({ outcome: 'already_muted', mute: { mute_id: first.mute.mute_id } });
    });

    it('holds a mute beyond the rule set maximum for a second, different person, and it silences nothing meanwhile', async () => {
      const now = t.clock.now;
      const requester = ROLE_SESSION('ops', 'carol');
      const r = await t.call(requester, {
        command: 'mute',
        world: 'w-mute-long',
        rule: 'var_enforce',
        for: '2d',
        reason: 'model recalibration',
      });
      // Worlds without a file of their own take default.yaml, whose maximum is the 24 h default.
      expect(r).toMatchObject({
        http: 200,
        outcome: 'awaiting_second_approval',
        why: expect.stringMatching(/2d .* longer than .*1d/),
      });
      const id = (r.mute as { mute_id: string }).mute_id;
      expect(await t.ops.listMutes('w-mute-long', now)).toEqual([]);

      const sameRole = await t.call(ROLE_SESSION('ops', 'carol-again'), {
        command: 'approve_mute',
        world: 'w-mute-long',
        mute_id: id,
        reason: 'self',
      });
      expect(sameRole).toMatchObject({
        http: 409,
        error: expect.stringMatching(/needs a second, different person/),
      });

      const approved = await t.call(ROLE_SESSION('risk-lead', 'dave'), {
        command: 'approve_mute',
        world: 'w-mute-long',
        mute_id: id,
        reason: 'agreed',
      });
      expect(approved).toMatchObject({ http: 200, outcome: 'muted' });
      const [active] = await t.ops.listMutes('w-mute-long', now);
      expect(active).toMatchObject({
        mute_id: id,
        state: 'active',
        approvals: [
          { actor: requester, principal: 'arn:aws:iam::123456789012:role/ops' },
          { actor: ROLE_SESSION('risk-lead', 'dave'), principal: 'arn:aws:iam::123456789012:role/risk-lead' },
        ],
      });
      const twice = await t.call(ROLE_SESSION('risk-lead', 'erin'), {
        command: 'approve_mute',
        world: 'w-mute-long',
        mute_id: id,
        reason: 'late',
      });
      expect(twice).toMatchObject({ http: 409, error: expect.stringMatching(/already approved and active/) });
      const audit = (await t.store.listAudit('w-mute-long')) as (AuditRecord & { action?: string })[];
      expect(audit.map((a) => a.action).sort()).toEqual(['mute_approve', 'mute_request']);
    });

    it('holds a world-wide mute (all rules, all strategies) for a second approver', async () => {
      const now = t.clock.now;
      const r = await t.ops.mute({ ...base, world: 'w-mute-world', until: iso(now + hour), nowMs: now });
      expect(r).toMatchObject({
        outcome: 'awaiting_second_approval',
        why: expect.stringMatching(/world-wide/),
      });
      expect(await t.ops.listMutes('w-mute-world', now)).toEqual([]);
      // A breach meanwhile is published: the request silences nothing.
      await t.put('w-mute-world', 'v1', 0.03);
      expect(t.emitted('w-mute-world')).toHaveLength(1);
      await expect(
        t.ops.approveMute('w-mute-world', r.mute.mute_id, {
          ...base,
          reason: 'self-approval',
          nowMs: now + 1,
        }),
      ).rejects.toThrow(/needs a second, different person/);
    });

    it('refuses to approve a mute request that ran out, or one that does not exist', async () => {
      const now = t.clock.now;
      const r = await t.ops.mute({ ...base, world: 'w-mute-stale', until: iso(now + hour), nowMs: now });
      await expect(
        t.ops.approveMute('w-mute-stale', r.mute.mute_id, {
          actor: 'arn:aws:iam::123456789012:user/bob',
          reason: 'late',
          nowMs: now + 2 * hour,
        }),
      ).rejects.toThrow(/ran out at .* before a second approval/);
      await expect(
        t.ops.approveMute('w-mute-stale', 'mute-000', { actor: 'bob', reason: 'x', nowMs: now }),
      ).rejects.toBeInstanceOf(OpsNotFoundError);
    });

    it('refuses an unmute without a reason', async () => {
      const r = await t.call('arn:aws:iam::123456789012:user/alice', {
        command: 'unmute',
        world: 'w-short-mutes',
        rule: 'var_99_limit',
      });
      expect(r).toMatchObject({ http: 400, error: expect.stringMatching(/^reason: is required/) });
    });
  });

  describe('a proposal whose breach cleared', () => {
    it('is refused and expired when approved, the rest expire at the sweep without their emit default, all audited', async () => {
      await t.put('w-episode-over', 'v1', 0.03);
      const proposals = await t.store.listSignals({ world_id: 'w-episode-over', status: 'proposed' });
      expect(proposals.length).toBeGreaterThan(1);
      // The next snapshot is back under the limit: the episode closes before anyone decided.
      t.clock.now += 60_000;
      await t.put('w-episode-over', 'v2', 0.01);

      const [first, ...rest] = proposals;
      const refused = await t.call(ROLE_SESSION('ops', 'alice'), {
        command: 'approve',
        signal_id: first!.signal_id,
        reason: 'looks right',
      });
      expect(refused).toMatchObject({
        http: 409,
        error: expect.stringMatching(/risk episode behind it is over: var_approval cleared.*now expired/),
      });
      expect(await t.store.getSignal(first!.signal_id)).toMatchObject({
        status: 'expired',
        decided_by: 'system:episode-over',
        decision_reason: expect.stringMatching(
          /approval by arn:aws:sts::123456789012:assumed-role\/ops\/alice refused/,
        ),
      });

      // Past the deadline the rule's default would emit; the sweep expires them instead.
      const sweep = await t.ops.expireDue(t.clock.now + 700_000);
      expect(sweep.episode_over.sort()).toEqual(rest.map((p) => p.signal_id).sort());
      // (the sweep settles every world; other tests' proposals may time out here)
      expect(sweep.emitted.filter((id) => proposals.some((p) => p.signal_id === id))).toEqual([]);
      for (const p of rest) expect((await t.store.getSignal(p.signal_id))?.status).toBe('expired');
      expect(t.emitted('w-episode-over')).toHaveLength(0);
      const audit = (await t.store.listAudit('w-episode-over')) as (AuditRecord & { action?: string })[];
      expect(
        audit
          .filter((r) => r.action === 'episode_over')
          .map((r) => (r.target as { id: string }).id)
          .sort(),
      ).toEqual(proposals.map((p) => p.signal_id).sort());
    });
  });
});
