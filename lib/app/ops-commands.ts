// zod/mini with the English messages (zod-messages.ts): issues read as in classic zod, and the ops
// function's bundle holds no classic zod (README, cold start round 4).
import * as z from 'zod/mini';
import { isoDateTime } from '#lib/contracts/zod-shared.js';
import { type OpsService, parseDuration } from '#lib/engine/ops.js';
import { principalOf } from '#lib/engine/principal.js';

/**
 * The ops commands, once for every way they come in: the ops Lambda behind its Function URL, the
 * CLI against a local runtime, and the CLI's signed client (which sends the same body).
 */

const nonEmpty = (what: string) => z.string().check(z.trim(), z.minLength(1, `${what} must not be empty`));
const optionalId = z.optional(z.string().check(z.trim(), z.minLength(1)));

/**
 * The ops command body. Strict: the actor comes from the IAM caller, never from the body, so a
 * body that names one is refused rather than silently ignored.
 */
export const OpsCommandSchema = z.discriminatedUnion('command', [
  z.strictObject({
    command: z.literal('approve'),
    signal_id: nonEmpty('signal_id'),
    reason: nonEmpty('reason'),
  }),
  z.strictObject({
    command: z.literal('reject'),
    signal_id: nonEmpty('signal_id'),
    reason: nonEmpty('reason'),
  }),
  z
    .strictObject({
      command: z.literal('mute'),
      world: nonEmpty('world'),
      strategy: optionalId,
      rule: optionalId,
      until: z.optional(isoDateTime({ offset: true })),
      for: z.optional(z.string()),
      reason: nonEmpty('reason'),
    })
    .check(
      z.refine((m) => (m.until === undefined) !== (m.for === undefined), {
        message: 'give exactly one of until (ISO date-time) or for (a duration such as 2h)',
        path: ['until'],
      }),
    ),
  z.strictObject({
    command: z.literal('unmute'),
    world: nonEmpty('world'),
    mute_id: optionalId,
    strategy: optionalId,
    rule: optionalId,
    reason: z.optional(z.string()),
  }),
  z.strictObject({
    command: z.literal('approve_mute'),
    world: nonEmpty('world'),
    mute_id: nonEmpty('mute_id'),
    reason: nonEmpty('reason'),
  }),
  z.strictObject({ command: z.literal('mutes'), world: optionalId, all: z.optional(z.boolean()) }),
]);
export type OpsCommand = z.infer<typeof OpsCommandSchema>;

/**
 * The decision half of a command: runs it as `actor` (the caller's full ARN, audited as is) and returns the
 * response body. `principal` is who four eyes compares (the ARN without the session name, or the source
 * identity); derived from `actor` when not given.
 */
export async function runOpsCommand(
  ops: OpsService,
  cmd: OpsCommand,
  actor: string,
  nowMs: number,
  principal: string = principalOf(actor),
): Promise<Record<string, unknown>> {
  switch (cmd.command) {
    case 'approve': {
      const r = await ops.approve(cmd.signal_id, { actor, principal, reason: cmd.reason, nowMs });
      return {
        outcome: r.outcome,
        signal_id: r.signal.signal_id,
        status: r.signal.status,
        approvals: r.signal.approvals ?? [],
        ...('event_id' in r ? { event_id: r.event_id } : {}),
      };
    }
    case 'reject': {
      const s = await ops.reject(cmd.signal_id, { actor, principal, reason: cmd.reason, nowMs });
      return { outcome: 'rejected', signal_id: s.signal_id, status: s.status };
    }
    case 'mute': {
      const until = cmd.until ?? new Date(nowMs + parseDuration(cmd.for ?? '', 'for')).toISOString();
      const r = await ops.mute({
        world: cmd.world,
        ...(cmd.strategy ? { strategy: cmd.strategy } : {}),
        ...(cmd.rule ? { rule: cmd.rule } : {}),
        until,
        reason: cmd.reason,
        actor,
        principal,
        nowMs,
      });
      return { outcome: r.outcome, mute: r.mute, ...('why' in r ? { why: r.why } : {}) };
    }
    case 'approve_mute': {
      const mute = await ops.approveMute(cmd.world, cmd.mute_id, {
        actor,
        principal,
        reason: cmd.reason,
        nowMs,
      });
      return { outcome: 'muted', mute };
    }
    case 'unmute': {
      const ended = await ops.unmute({
        world: cmd.world,
        ...(cmd.mute_id ? { muteId: cmd.mute_id } : {}),
        ...(cmd.strategy ? { strategy: cmd.strategy } : {}),
        ...(cmd.rule ? { rule: cmd.rule } : {}),
        ...(cmd.reason ? { reason: cmd.reason } : {}),
        actor,
        principal,
        nowMs,
      });
      return { outcome: 'unmuted', mutes: ended };
    }
    case 'mutes':
      return { outcome: 'listed', mutes: await ops.listMutes(cmd.world, nowMs, cmd.all ?? false) };
  }
}
