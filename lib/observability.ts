import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type middy from '@middy/core';
import { EvaluationInProgressError } from './engine/errors.js';
import type { EngineLogger, EngineMetrics } from './engine/ports.js';
import { mapErrorStack } from './source-mapped-stack.js';

/** The Powertools singletons, one per process (STYLE 7). */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'exit-engine' });
export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'ExitEngine',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'exit-engine',
  // Its own warnings ("No application metrics to publish") go through the Logger and its level,
  // instead of straight to the console where no log level silences them.
  logger,
});

/**
 * Whether the Powertools Tracer is loaded: as Powertools itself decides, only inside Lambda
 * (`AWS_EXECUTION_ENV`), not under SAM local, and not when `POWERTOOLS_TRACE_ENABLED` is `false`. Locally
 * and in tests it is never loaded, so it costs nothing and prints nothing there.
 */
export function tracingEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return (
    (env.AWS_EXECUTION_ENV ?? '') !== '' &&
    (env.AWS_SAM_LOCAL ?? '') === '' &&
    (env.POWERTOOLS_TRACE_ENABLED ?? 'true').toLowerCase() !== 'false'
  );
}

let tracer: Promise<Tracer> | undefined;
const traced: Promise<void>[] = [];

/**
 * Where tracing is on, loads the Tracer and calls `use` with it; `tracingReady()` waits for that. Nothing
 * happens where tracing is off. The Tracer and aws-xray-sdk-core are imported on first use (a dynamic
 * import: their module init runs only where traces are sent), once per process. Its construction patches
 * http(s) (captureHTTPsGlobal), so every AWS call of the functions (lib/adapters/aws-json.ts over
 * node:https) is a subsegment; the DynamoDB document client adds an `aws` subsegment per call around it
 * (lib/runtime/wire-tracing.ts, which each function's composition root calls).
 */
export function withTracer(use: (tracer: Tracer) => void, env: NodeJS.ProcessEnv = process.env): void {
  if (!tracingEnabled(env)) return;
  tracer ??= import('@aws-lambda-powertools/tracer').then(
    ({ Tracer }) => new Tracer({ serviceName: env.POWERTOOLS_SERVICE_NAME ?? 'exit-engine' }),
  );
  traced.push(tracer.then(use));
}

/** Resolves once every `withTracer` use has run (at once where tracing is off). */
export async function tracingReady(): Promise<void> {
  await Promise.all(traced);
}

/** The metric every handler emits for a failure that is not a designed retry; the error alarms watch it. */
export const UNEXPECTED_FAILURES_METRIC = 'UnexpectedFailures';

/**
 * Dimensioned counts of one invocation, summed per metric and dimension set and flushed once at its end
 * (one EMF record per distinct dimension set, not one per signal).
 */
export class DimensionedCounts {
  private readonly counts = new Map<string, { name: string; dims: Record<string, string>; value: number }>();
  private readonly worlds = new Set<string>();
  /**
   * Whether per-world dimensions are emitted (config `PER_WORLD_METRICS`, from the CDK context
   * `perWorldMetrics`). Off by default: a dimension per world is a metric series per world, and CloudWatch
   * bills per series; the world id still goes out as an EMF property, searchable in Logs Insights.
   */
  perWorld = false;

  add(name: string, value: number, dimensions: Record<string, string>): void {
    const dims = { ...dimensions };
    if (dims.world !== undefined && !this.perWorld) {
      this.worlds.add(dims.world);
      delete dims.world;
    }
    const keys = Object.keys(dims).sort();
    if (keys.length === 0) {
      metrics.addMetric(name, MetricUnit.Count, value);
      return;
    }
    const key = `${name}\u0000${keys.map((k) => `${k}=${dims[k]}`).join('\u0000')}`;
    const entry = this.counts.get(key);
    if (entry) entry.value += value;
    else this.counts.set(key, { name, dims, value });
  }

  /** Writes what was collected: world ids as a property of the main record, one record per dimension set. */
  flush(): void {
    if (this.worlds.size > 0) metrics.addMetadata('world_ids', [...this.worlds].sort().join(','));
    const bySet = new Map<string, { dims: Record<string, string>; values: [string, number][] }>();
    for (const { name, dims, value } of this.counts.values()) {
      const setKey = JSON.stringify(Object.entries(dims).sort(([a], [b]) => a.localeCompare(b)));
      const set = bySet.get(setKey) ?? { dims, values: [] };
      set.values.push([name, value]);
      bySet.set(setKey, set);
    }
    for (const { dims, values } of bySet.values()) {
      const single = metrics.singleMetric();
      single.addDimensions(dims);
      for (const [name, value] of values) single.addMetric(name, MetricUnit.Count, value);
    }
    this.counts.clear();
    this.worlds.clear();
  }
}

/** The process's collector; the `observe` middleware flushes it at the end of each invocation. */
export const dimensionedCounts = new DimensionedCounts();

/** The engine's metrics port over Powertools: dimensioned counts are collected and flushed per invocation. */
export const engineMetrics: EngineMetrics = {
  count(name, value = 1, dimensions) {
    if (dimensions && Object.keys(dimensions).length > 0) dimensionedCounts.add(name, value, dimensions);
    else metrics.addMetric(name, MetricUnit.Count, value);
  },
  measure(name, value, unit) {
    metrics.addMetric(name, unit === 'None' ? MetricUnit.NoUnit : MetricUnit[unit], value);
  },
};

/** The engine's logging port over the Powertools logger. */
export const engineLogger: EngineLogger = {
  info: (message, extra) => logger.info(message, extra ?? {}),
  warn: (message, extra) => logger.warn(message, extra ?? {}),
  error: (message, extra) => logger.error(message, extra ?? {}),
};

/**
 * Designed retries: the delivery is retried on purpose and succeeds later (a concurrent duplicate waits
 * for the evaluation in progress). They are not failures anyone must look at.
 */
export function isDesignedRetry(error: unknown): boolean {
  return error instanceof EvaluationInProgressError;
}

/**
 * Per-invocation bookkeeping, used after `logMetrics` so it runs before the metrics are published: flushes
 * the dimensioned counts, and on an error that is not a designed retry counts `UnexpectedFailures` (what the
 * error alarms watch, instead of Lambda's `Errors`, which counts designed retries too). Such an error's
 * stack is mapped through the bundle's source maps before Lambda reports it (lib/source-mapped-stack.ts).
 */
export function observeInvocation(): middy.MiddlewareObj {
  return {
    after() {
      dimensionedCounts.flush();
    },
    onError(request) {
      if (!isDesignedRetry(request.error)) {
        mapErrorStack(request.error);
        metrics.addMetric(UNEXPECTED_FAILURES_METRIC, MetricUnit.Count, 1);
        logger.error('invocation failed', { error: (request.error as Error | undefined)?.message });
      }
      dimensionedCounts.flush();
    },
  };
}
