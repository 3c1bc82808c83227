import type { Tracer } from '@aws-lambda-powertools/tracer';
import { AwsServiceError } from '#lib/adapters/aws-json.js';
import type { DocumentCall, DocumentMiddleware } from './document-client.js';

/**
 * Each DynamoDB call as an X-Ray subsegment, as the SDK client's capture recorded it
 * (`captureAWSv3Client`): named `DynamoDB`, namespace `aws`, with the operation, region and table(s), and
 * the error, throttle or fault flag of a refusal. The Tracer's own HTTP instrumentation (`captureHTTPsGlobal`) adds the HTTP
 * call (by host) inside it, one per attempt. Outside an invocation (no segment) calls pass untraced.
 */
export function tracedDynamoCalls(tracer: Tracer, region: string): DocumentMiddleware {
  return (next) => async (call) => {
    if (tracer.provider.getSegment() === undefined) return next(call);
    return (await tracer.provider.captureAsyncFunc('DynamoDB', async (subsegment) => {
      subsegment?.addAttribute('namespace', 'aws');
      subsegment?.addAttribute('aws', { operation: call.operation, region, ...tablesOf(call) });
      try {
        return await next(call);
      } catch (error) {
        if (subsegment && error instanceof AwsServiceError) {
          subsegment.addAttribute('http', { response: { status: error.status } });
          if (error.throttling) subsegment.addThrottleFlag();
          if (error.status >= 500) subsegment.addFaultFlag();
          else subsegment.addErrorFlag();
        }
        subsegment?.addError(error as Error, true);
        throw error;
      } finally {
        subsegment?.close();
      }
    })) as Record<string, unknown>;
  };
}

/** The table a call names (`table_name`), or the tables of a batch or transaction (`table_names`). */
export function tablesOf(call: DocumentCall): { table_name: string } | { table_names: string[] } | object {
  const { input } = call;
  if (typeof input.TableName === 'string') return { table_name: input.TableName };
  if (input.RequestItems && typeof input.RequestItems === 'object')
    return { table_names: Object.keys(input.RequestItems) };
  if (Array.isArray(input.TransactItems)) {
    const names = new Set<string>();
    for (const item of input.TransactItems as Record<string, { TableName?: string } | undefined>[])
      for (const op of Object.values(item)) if (op?.TableName) names.add(op.TableName);
    return { table_names: [...names] };
  }
  return {};
}
