import type { AwsCredentials } from './aws-signing.js';
import { callTimeout, type HttpAnswer, signedHttpRequest } from './signed-http.js';

/**
 * One AWS JSON-protocol call (awsJson1_0 / awsJson1_1: DynamoDB, EventBridge) over node:https,
 * SigV4-signed, retried as the SDK's standard mode retries (its backoff and its retry quota). The
 * functions make every AWS call through this module instead of an SDK client: the SDK's client core
 * (`@smithy/core`, the middleware stack, the Node HTTP handler) was most of a cold start's bundle and init.
 */

/** What differs between JSON-protocol services. */
export interface AwsJsonProtocol {
  /** SigV4 service name: 'dynamodb', 'events'. */
  signingName: string;
  /** Host prefix: https://{endpointPrefix}.{region}.amazonaws.com. */
  endpointPrefix: string;
  /** X-Amz-Target prefix: 'DynamoDB_20120810', 'AWSEvents'. */
  targetPrefix: string;
  jsonVersion: '1.0' | '1.1';
}

/** An error document as the service sent it. */
export interface ServiceFault {
  /** The error code, without its namespace: 'ConditionalCheckFailedException'. */
  code: string;
  message: string;
  status: number;
  /** The whole error document (e.g. DynamoDB's CancellationReasons). */
  fields: Record<string, unknown>;
  requestId?: string;
}

export interface AwsJsonClientOptions {
  region: string;
  /** A local stand-in (DynamoDB Local, the local bus); default https://{endpointPrefix}.{region}.amazonaws.com. */
  endpoint?: string;
  /** Read on every attempt: Lambda's credentials rotate, a CLI's may be refreshed. */
  credentials: () => AwsCredentials | Promise<AwsCredentials>;
  /** Attempts per call, the first included. Default 3, as the SDK's standard mode; 1 = no retry. */
  maxAttempts?: number;
  /** One attempt's limit; a timed-out attempt is a transport error (retried, its effect unknown). Default 10 s. */
  attemptTimeoutMs?: number;
  /** Service-specific error classes (e.g. ConditionalCheckFailedException); default AwsServiceError. */
  errorFor?: (fault: ServiceFault) => AwsServiceError;
  sleep?: (ms: number) => Promise<void>;
  /** Backoff jitter in [0, 1). */
  random?: () => number;
  /** The client's retry quota (`RETRY_QUOTA`); a test lowers it. */
  retryQuota?: Partial<RetryQuotaSettings>;
}

/**
 * The retry quota of the SDK's standard mode (pre-2026 figures, with the backoff bases below): each client
 * holds a bucket of tokens; a retry takes 5 (10 after a timed-out attempt), a call that succeeds gives back
 * what its last retry took, or 1 if it needed none, up to the initial 500. An empty bucket means no retries
 * until calls succeed again: when a service is down or throttling hard, every call fails after one attempt
 * instead of three, so retries do not multiply the load on a struggling service (a Lambda container in an
 * outage stops retrying after ~50 failed calls; the event's own retry and DLQ take over).
 */
export interface RetryQuotaSettings {
  initial: number;
  retryCost: number;
  timeoutRetryCost: number;
  noRetryIncrement: number;
}
export const RETRY_QUOTA: Readonly<RetryQuotaSettings> = {
  initial: 500,
  retryCost: 5,
  timeoutRetryCost: 10,
  noRetryIncrement: 1,
};

export interface AwsJsonCallOptions {
  /** The caller's deadline or cancellation: aborts the attempt under way and stops retrying. */
  signal?: AbortSignal;
}

export interface AwsJsonClient {
  /**
   * One operation: a signed POST, retried per the policy; resolves the parsed JSON body. Rejects with an
   * AwsServiceError (the service answered with an error) or an AwsTransportError (no answer).
   */
  call<T = Record<string, unknown>>(
    operation: string,
    input: unknown,
    options?: AwsJsonCallOptions,
  ): Promise<T>;
  /** The tokens left in this client's retry quota (`RETRY_QUOTA`). */
  retryTokens(): number;
}

/** The service answered with an error document; `name` and `code` are its error code. */
export class AwsServiceError extends Error {
  readonly code: string;
  readonly status: number;
  readonly requestId: string | undefined;
  readonly fields: Record<string, unknown>;
  /** The service asked the caller to slow down. */
  readonly throttling: boolean;
  /** Worth another attempt: throttling or a transient server fault. */
  readonly retryable: boolean;
  readonly $fault: 'client' | 'server';
  /**
   * Earlier attempts of the same call whose effect is unknown (no answer, or a server fault), set by
   * `call`: above 0, the request may have been applied although this answer refuses it.
   */
  attemptsInDoubt = 0;
  /** Set by `call` when the client's retry quota had no tokens left for another attempt. */
  retryQuotaExhausted = false;

  constructor(fault: ServiceFault, options?: ErrorOptions) {
    super(fault.message === '' ? `${fault.code} (HTTP ${fault.status})` : fault.message, options);
    this.name = fault.code;
    this.code = fault.code;
    this.status = fault.status;
    this.requestId = fault.requestId;
    this.fields = fault.fields;
    this.throttling = THROTTLING_CODES.has(fault.code) || fault.status === 429;
    this.retryable = this.throttling || TRANSIENT_CODES.has(fault.code) || TRANSIENT_STATUS.has(fault.status);
    this.$fault = fault.status >= 500 ? 'server' : 'client';
  }
}

/** No answer: a network failure, an attempt's time-out or the caller's abort. The request may have been applied. */
export class AwsTransportError extends Error {
  override readonly name = 'AwsTransportError';
  readonly timedOut: boolean;
  readonly aborted: boolean;
  /** Set by `call` when the client's retry quota had no tokens left for another attempt. */
  retryQuotaExhausted = false;

  constructor(message: string, how: { timedOut: boolean; aborted: boolean }, options?: ErrorOptions) {
    super(message, options);
    this.timedOut = how.timedOut;
    this.aborted = how.aborted;
  }
}

// The SDK's standard retry mode (@smithy/service-error-classification): its throttling and transient codes.
const THROTTLING_CODES = new Set([
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'LimitExceededException',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TransactionInProgressException',
]);
const TRANSIENT_CODES = new Set([
  'InternalServerError',
  'InternalFailure',
  'ServiceUnavailable',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
]);
const TRANSIENT_STATUS = new Set([500, 502, 503, 504]);

const BASE_DELAY_MS = 100;
const THROTTLING_BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 20_000;

export function awsJsonClient(protocol: AwsJsonProtocol, options: AwsJsonClientOptions): AwsJsonClient {
  const url = new URL(
    options.endpoint ?? `https://${protocol.endpointPrefix}.${options.region}.amazonaws.com/`,
  );
  const maxAttempts = Math.max(1, options.maxAttempts ?? 3);
  const attemptTimeoutMs = options.attemptTimeoutMs ?? 10_000;
  const errorFor = options.errorFor ?? ((fault: ServiceFault) => new AwsServiceError(fault));
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = options.random ?? Math.random;
  const contentType = `application/x-amz-json-${protocol.jsonVersion}`;
  const quota = { ...RETRY_QUOTA, ...options.retryQuota };
  let tokens = quota.initial;

  async function attempt(operation: string, body: string, signal: AbortSignal | undefined): Promise<unknown> {
    const timeout = callTimeout(attemptTimeoutMs);
    let answer: HttpAnswer;
    try {
      answer = await signedHttpRequest({
        service: protocol.signingName,
        region: options.region,
        credentials: await options.credentials(),
        method: 'POST',
        url,
        headers: { 'content-type': contentType, 'x-amz-target': `${protocol.targetPrefix}.${operation}` },
        body,
        signal: signal ? AbortSignal.any([signal, timeout.signal]) : timeout.signal,
      });
    } catch (error) {
      const aborted = signal?.aborted === true;
      const timedOut = !aborted && timeout.signal.aborted;
      const why = aborted
        ? 'aborted by the caller'
        : timedOut
          ? `no answer in ${attemptTimeoutMs} ms`
          : (error as Error).message;
      throw new AwsTransportError(
        `${protocol.targetPrefix}.${operation}: ${why}`,
        { timedOut, aborted },
        { cause: error },
      );
    } finally {
      timeout.clear();
    }
    if (answer.status >= 200 && answer.status < 300) return parseBody(answer.text, operation, answer.status);
    throw errorFor(faultOf(answer));
  }

  return {
    async call<T>(operation: string, input: unknown, callOptions: AwsJsonCallOptions = {}): Promise<T> {
      const body = JSON.stringify(input ?? {});
      const { signal } = callOptions;
      let inDoubt = 0;
      // The tokens the last retry took: given back if the call succeeds.
      let held = 0;
      for (let n = 1; ; n++) {
        let answer: T;
        try {
          answer = (await attempt(operation, body, signal)) as T;
        } catch (error) {
          if (error instanceof AwsServiceError) error.attemptsInDoubt = inDoubt;
          if (error instanceof AwsTransportError || (error instanceof AwsServiceError && error.status >= 500))
            inDoubt++;
          const retryable =
            error instanceof AwsTransportError
              ? !error.aborted
              : error instanceof AwsServiceError && error.retryable;
          if (!retryable || n >= maxAttempts || signal?.aborted) throw error;
          const cost =
            error instanceof AwsTransportError && error.timedOut ? quota.timeoutRetryCost : quota.retryCost;
          if (tokens < cost) {
            (error as AwsServiceError | AwsTransportError).retryQuotaExhausted = true;
            throw error;
          }
          tokens -= cost;
          held = cost;
          const base =
            error instanceof AwsServiceError && error.throttling ? THROTTLING_BASE_DELAY_MS : BASE_DELAY_MS;
          await sleep(Math.floor(random() * Math.min(MAX_DELAY_MS, base * 2 ** (n - 1))));
          if (signal?.aborted) throw error;
          continue;
        }
        tokens = Math.min(quota.initial, tokens + (held > 0 ? held : quota.noRetryIncrement));
        return answer;
      }
    },
    retryTokens: () => tokens,
  };
}

/** A 2xx body: JSON, or empty for operations that answer nothing. */
function parseBody(text: string, operation: string, status: number): unknown {
  if (text === '') return {};
  try {
    return JSON.parse(text);
  } catch (error) {
    // A proxy or a broken answer: retried as the server fault it is.
    throw new AwsServiceError(
      {
        code: 'InternalFailure',
        message: `${operation}: HTTP ${status} with a body that is not JSON`,
        status: 500,
        fields: {},
      },
      { cause: error },
    );
  }
}

/** The error code and message from the body's `__type` / `message`, else the x-amzn-errortype header. */
function faultOf(answer: HttpAnswer): ServiceFault {
  const text = answer.text;
  let fields: Record<string, unknown> = {};
  try {
    const parsed: unknown = text === '' ? {} : JSON.parse(text);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed))
      fields = parsed as Record<string, unknown>;
  } catch {
    fields = { body: text.slice(0, 500) };
  }
  // `com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException`; the header: `Code:http://internal...`.
  const typed = (fields.__type ??
    fields.code ??
    fields.Code ??
    answer.header('x-amzn-errortype') ??
    '') as string;
  const code = String(typed).split(':')[0]!.split('#').pop()!;
  const message = fields.message ?? fields.Message ?? '';
  const requestId = answer.header('x-amzn-requestid') ?? undefined;
  return {
    code: code === '' ? (answer.status >= 500 ? 'InternalFailure' : `HTTP${answer.status}`) : code,
    message: typeof message === 'string' ? message : JSON.stringify(message),
    status: answer.status,
    fields,
    ...(requestId ? { requestId } : {}),
  };
}
