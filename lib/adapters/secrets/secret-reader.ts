import { AwsServiceError, awsJsonClient } from '../aws-json.js';
import type { AwsCredentials } from '../aws-signing.js';

const SECRETS_MANAGER = {
  signingName: 'secretsmanager',
  endpointPrefix: 'secretsmanager',
  targetPrefix: 'secretsmanager',
  jsonVersion: '1.1',
} as const;

/** A secret that could not be read; the hub lookups that need it fail as retryable until it can. */
export class SecretReadError extends Error {
  override readonly name = 'SecretReadError';
}

export interface SecretReaderOptions {
  region: string;
  /** Lambda's own credentials (its environment); read when the secret is first needed. */
  credentials: () => AwsCredentials;
  /** Override for tests against a local stand-in; default `https://secretsmanager.{region}.amazonaws.com/`. */
  endpoint?: string;
  /** A JSON secret: the field holding the token. Absent: the whole SecretString is the token. */
  jsonField?: string;
}

/**
 * Reads one Secrets Manager secret with a signed `GetSecretValue` call over node:https (lib/adapters/aws-json.ts,
 * retried as the SDK would; no SDK client: one request at cold start does not earn ~100 KB of bundle), and
 * caches it for the life of the process. A failed read is not cached, so the next invocation tries again.
 */
export function cachedSecret(secretId: string, options: SecretReaderOptions): () => Promise<string> {
  let value: Promise<string> | undefined;
  return () => {
    if (!value) {
      value = readSecret(secretId, options);
      value.catch(() => {
        value = undefined;
      });
    }
    return value;
  };
}

async function readSecret(secretId: string, options: SecretReaderOptions): Promise<string> {
  const secretsManager = awsJsonClient(SECRETS_MANAGER, {
    region: options.region,
    credentials: options.credentials,
    attemptTimeoutMs: 5_000,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
  });
  let answer: { SecretString?: string };
  try {
    answer = await secretsManager.call('GetSecretValue', { SecretId: secretId });
  } catch (error) {
    const status = error instanceof AwsServiceError ? ` answered ${error.status}` : '';
    throw new SecretReadError(`secret ${secretId}: Secrets Manager${status}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const secret = answer.SecretString;
  if (!secret) throw new SecretReadError(`secret ${secretId} has no SecretString`);
  if (!options.jsonField) return secret;
  let parsed: unknown;
  try {
    parsed = JSON.parse(secret);
  } catch (error) {
    throw new SecretReadError(`secret ${secretId} is not JSON, so it has no field '${options.jsonField}'`, {
      cause: error,
    });
  }
  const field = (parsed as Record<string, unknown>)[options.jsonField];
  if (typeof field !== 'string' || field === '')
    throw new SecretReadError(`secret ${secretId} has no string field '${options.jsonField}'`);
  return field;
}
