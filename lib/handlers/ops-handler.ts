import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type {
  APIGatewayProxyEventV2WithIAMAuthorizer,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import * as z from 'zod';
import { formatZodIssues } from '../contracts/issues.js';
import { OpsError, type OpsErrorKind, type OpsService, parseDuration } from '../engine/ops.js';
import { principalOf } from '../engine/principal.js';
import { logger, metrics, observeInvocation } from '../observability.js';

const nonEmpty = (what: string) => z.string().trim().min(1, `${what} must not be empty`);
const optionalId = z.string().trim().min(1).optional();

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
      until: z.iso.datetime({ offset: true }).optional(),
      for: z.string().optional(),
      reason: nonEmpty('reason'),
    })
    .refine((m) => (m.until === undefined) !== (m.for === undefined), {
      message: 'give exactly one of until (ISO date-time) or for (a duration such as 2h)',
      path: ['until'],
    }),
  z.strictObject({
    command: z.literal('unmute'),
    world: nonEmpty('world'),
    mute_id: optionalId,
    strategy: optionalId,
    rule: optionalId,
    reason: z.string().optional(),
  }),
  z.strictObject({
    command: z.literal('approve_mute'),
    world: nonEmpty('world'),
    mute_id: nonEmpty('mute_id'),
    reason: nonEmpty('reason'),
  }),
  z.strictObject({ command: z.literal('mutes'), world: optionalId, all: z.boolean().optional() }),
]);
export type OpsCommand = z.infer<typeof OpsCommandSchema>;

export interface OpsHandlerDeps {
  ops: OpsService;
  clock: () => number;
}

type Response = APIGatewayProxyStructuredResultV2;

function respond(statusCode: number, body: Record<string, unknown>): Response {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

/** The HTTP status each kind of ops refusal is answered with. */
export const OPS_ERROR_STATUS: Record<OpsErrorKind, 400 | 404 | 409> = {
  invalid: 400,
  not_found: 404,
  conflict: 409,
};

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

/**
 * The ops command handler behind the IAM-authenticated Function URL: the actor is the signed
 * caller's ARN; the body is validated with zod; ops errors map to 400/404/409 with a message.
 */
export function createOpsHandler(deps: OpsHandlerDeps) {
  const handle = async (
    event: APIGatewayProxyEventV2WithIAMAuthorizer,
    _context: Context,
  ): Promise<Response> => {
    const iam = event.requestContext?.authorizer?.iam;
    const actor = iam?.userArn;
    if (!actor) {
      return respond(403, {
        ok: false,
        error: 'no IAM caller on the request: the function URL must use AWS_IAM auth',
      });
    }
    let raw: unknown;
    try {
      const text = event.isBase64Encoded
        ? Buffer.from(event.body ?? '', 'base64').toString('utf8')
        : event.body;
      raw = JSON.parse(text ?? '');
    } catch {
      return respond(400, {
        ok: false,
        error: 'body: must be a JSON object such as {"command":"approve",...}',
      });
    }
    const parsed = OpsCommandSchema.safeParse(raw);
    if (!parsed.success) {
      const errors = formatZodIssues(parsed.error);
      return respond(400, { ok: false, error: errors.join('; '), errors });
    }
    const cmd = parsed.data;
    // Function URLs pass no sts:SourceIdentity today; a front door that does (field `sourceIdentity`) is honoured.
    const sourceIdentity = (iam as { sourceIdentity?: unknown } | undefined)?.sourceIdentity;
    const principal = principalOf(actor, typeof sourceIdentity === 'string' ? sourceIdentity : undefined);
    try {
      const result = await runOpsCommand(deps.ops, cmd, actor, deps.clock(), principal);
      metrics.addMetric('OpsCommands', MetricUnit.Count, 1);
      logger.info('ops command', { command: cmd.command, actor, principal, outcome: result.outcome });
      return respond(200, { ok: true, actor, principal, ...result });
    } catch (error) {
      if (error instanceof OpsError) {
        const status = OPS_ERROR_STATUS[error.kind];
        logger.info('ops command refused', {
          command: cmd.command,
          actor,
          principal,
          status,
          error: error.message,
        });
        return respond(status, { ok: false, error: error.message });
      }
      throw error;
    }
  };

  return middy(handle)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .use(observeInvocation());
}
