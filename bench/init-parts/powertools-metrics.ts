import { Metrics } from '@aws-lambda-powertools/metrics';

/** Powertools' Metrics, constructed (without the Logger lib/observability.ts gives it). */
export const metrics = new Metrics({ namespace: 'ExitEngine', serviceName: 'exit-engine' });
