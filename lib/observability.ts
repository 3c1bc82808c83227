import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { EngineLogger, EngineMetrics } from './engine/ports.js';

/** The Powertools singletons, one per process (STYLE 7). */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'exit-engine' });
export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'ExitEngine',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'exit-engine',
  // Its own warnings ("No application metrics to publish") go through the Logger and its level,
  // instead of straight to the console where no log level silences them.
  logger,
});

/** The engine's metrics port over Powertools: dimensioned counts go out as single metrics. */
export const engineMetrics: EngineMetrics = {
  count(name, value = 1, dimensions) {
    if (dimensions && Object.keys(dimensions).length > 0) {
      const single = metrics.singleMetric();
      single.addDimensions(dimensions);
      single.addMetric(name, MetricUnit.Count, value);
    } else {
      metrics.addMetric(name, MetricUnit.Count, value);
    }
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
