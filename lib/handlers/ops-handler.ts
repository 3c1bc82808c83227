import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type {
  APIGatewayProxyEventV2WithIAMAuthorizer,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';

import { OpsCommandSchema, runOpsCommand } from '#lib/app/ops-commands.js';
import { formatZodIssues } from '#lib/contracts/issues.js';
import { OpsError, type OpsErrorKind, type OpsService } from '#lib/engine/ops.js';
import { principalOf } from '#lib/engine/principal.js';
import { logger, metrics, observeInvocation } from '#lib/observability.js';

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
