import { EXIT_ENGINE_SOURCE, EXIT_SIGNAL_DETAIL_TYPE } from '#lib/contracts/exit-signal.js';
import { LOCAL_BUS_NAME, type LocalStack } from '#lib/local/local-stack.js';
import { UsageError } from '../args.js';

/** How long `--forward` keeps retrying a refused delivery by default (seconds). */
export const DEFAULT_FORWARD_RETRY_SECONDS = 300;
/** Attempts cap, as an API destination's retry policy has (EventBridge allows up to 185). */
export const DEFAULT_FORWARD_MAX_RETRIES = 185;

/** Checks a `--forward` URL: http(s) to a loopback host only, since it receives every emitted signal. */
export function loopbackUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--forward: '${raw}' is not a URL; e.g. http://127.0.0.1:8787/exit-signals`);
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const loopback = host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
  if (!['http:', 'https:'].includes(url.protocol) || !loopback) {
    throw new UsageError(
      `--forward: ${url.protocol}//${url.host} is not a loopback http(s) address; local runs forward only to 127.0.0.1, ::1 or localhost (use the stack's gateway subscriptions for anything else)`,
    );
  }
  return url;
}

/** The retry policy of the webhook rule, like an API destination's: event age and attempts. */
export interface ForwardRetry {
  /** Give up (dead-letter) once the event is older than this. */
  retrySeconds?: number;
  maxRetries?: number;
  /** First backoff in ms (doubles per attempt, capped at `maxDelayMs`). */
  baseDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * A bus rule that POSTs every exit_signal_emitted EventBridge event, as JSON, to a local webhook.
 * A refused or unreachable delivery is retried with exponential backoff for the retry budget, then
 * dead-lettered (as an API destination's would be); the runtime prints and records every dead letter.
 */
export function forwardEmitted(stack: LocalStack, url: URL, retry: ForwardRetry = {}): () => void {
  const name = 'exit-signals-to-local-webhook';
  stack.bus.putRule({
    name,
    eventBusName: LOCAL_BUS_NAME,
    eventPattern: { source: [EXIT_ENGINE_SOURCE], 'detail-type': [EXIT_SIGNAL_DETAIL_TYPE] },
    retryPolicy: {
      maximumRetryAttempts: retry.maxRetries ?? DEFAULT_FORWARD_MAX_RETRIES,
      maximumEventAgeSeconds: retry.retrySeconds ?? DEFAULT_FORWARD_RETRY_SECONDS,
      baseDelayMs: retry.baseDelayMs ?? 250,
      maxDelayMs: retry.maxDelayMs ?? 30_000,
    },
    targets: [
      {
        id: 'local-webhook',
        invoke: async (event) => {
          const res = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(event),
            signal: AbortSignal.timeout(5_000),
          });
          if (!res.ok) throw new Error(`webhook ${url.href} answered ${res.status} ${res.statusText}`);
        },
      },
    ],
  });
  // Stop forwarding before the webhook goes away: events put later would otherwise be retried
  // against a closed port for the whole retry budget (minutes), and `drain()` waits for them.
  return () => void stack.bus.removeRule(name, LOCAL_BUS_NAME);
}
