import { Logger } from '@aws-lambda-powertools/logger';

/** Powertools' Logger, constructed as lib/observability.ts does (it builds a Console on stdout and stderr). */
export const logger = new Logger({ serviceName: 'exit-engine' });
