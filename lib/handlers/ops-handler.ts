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
import { OpsError, type OpsService, parseDuration } from '../engine/ops.js';
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

/** The decision half of a command: runs it as `actor` and returns the response body. */
export async function runOpsCommand(
  ops: OpsService,
  cmd: OpsCommand,
  actor: string,
  nowMs: number,
): Promise<Record<string, unknown>> {
  switch (cmd.command) {
    case 'approve': {
      const r = await ops.approve(cmd.signal_id, { actor, reason: cmd.reason, nowMs });
      return {
        outcome: r.outcome,
        signal_id: r.signal.signal_id,
        status: r.signal.status,
        approvals: r.signal.approvals ?? [],
        ...('event_id' in r ? { event_id: r.event_id } : {}),
      };
    }
    case 'reject': {
      const s = await ops.reject(cmd.signal_id, { actor, reason: cmd.reason, nowMs });
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
        nowMs,
      });
      return { outcome: r.created ? 'muted' : 'already_muted', mute: r.mute };
    }
    case 'unmute': {
      const ended = await ops.unmute({
        world: cmd.world,
        ...(cmd.mute_id ? { muteId: cmd.mute_id } : {}),
        ...(cmd.strategy ? { strategy: cmd.strategy } : {}),
        ...(cmd.rule ? { rule: cmd.rule } : {}),
        ...(cmd.reason ? { reason: cmd.reason } : {}),
        actor,
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
    const actor = event.requestContext?.authorizer?.iam?.userArn;
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
    try {
      const result = await runOpsCommand(deps.ops, cmd, actor, deps.clock());
      metrics.addMetric('OpsCommands', MetricUnit.Count, 1);
      logger.info('ops command', { command: cmd.command, actor, outcome: result.outcome });
      return respond(200, { ok: true, actor, ...result });
    } catch (error) {
      if (error instanceof OpsError) {
        logger.info('ops command refused', {
          command: cmd.command,
          actor,
          status: error.status,
          error: error.message,
        });
        return respond(error.status, { ok: false, error: error.message });
      }
      throw error;
    }
  };

  return middy(handle)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .use(observeInvocation());
}
