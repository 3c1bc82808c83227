import { STATUS_CODES } from 'node:http';
import { RefResolutionError } from '#lib/engine/errors.js';
import type { RefOwner, RefResolver } from '#lib/engine/ports.js';
import { BodyTooLargeError, callTimeout, type HttpAnswer, httpRequest } from '../signed-http.js';
import { MAX_REF_BYTES } from './ref-resolver.js';

export interface HubRefResolverOptions {
  /** The hub's base URL, e.g. `https://worldservice.example.com` (the path `/risk-hub/...` is appended). */
  baseUrl: string;
  /** The bearer token, read once and cached by the caller; undefined sends no Authorization header. */
  token?: () => Promise<string | undefined>;
  /** Per-request time limit, the body included. Default 5 s. */
  timeoutMs?: number;
  /** The largest answer read. Default MAX_REF_BYTES (64 MB), the limit of every ref. */
  maxBytes?: number;
}

/** Lookups kept per (world, version), so a snapshot's three refs cost one request. */
const CACHE_SIZE = 16;

/**
 * Resolves a ref by asking upstream's hub for the snapshot it belongs to, expanded:
 * `GET {hub}/risk-hub/worlds/{world}/snapshots/lookup?version={version}&expand=true`
 * (upstream `qmtl/services/worldservice/routers/risk_hub.py`), which answers the snapshot with
 * `covariance`, `realized_returns` and `stress` read from its own blob store. Time-outs, network
 * errors, 429 and 5xx are retryable; 404, 401/403 and other answers are final.
 */
export class HubRefResolver implements RefResolver {
  private readonly lookups = new Map<string, Promise<Record<string, unknown>>>();
  private readonly base: string;

  constructor(private readonly options: HubRefResolverOptions) {
    this.base = options.baseUrl.replace(/\/+$/, '');
  }

  async resolve(uri: string, field: string, owner: RefOwner): Promise<unknown> {
    const snapshot = await this.lookup(owner, field);
    const target = field.replace(/_ref$/, '');
    const value = snapshot[target];
    if (value === undefined || value === null) {
      throw new RefResolutionError(
        `the hub's snapshot ${owner.world_id}@${owner.version} came back without ${target}: the hub could not read ${uri} either`,
        field,
        false,
      );
    }
    return value;
  }

  private lookup(owner: RefOwner, field: string): Promise<Record<string, unknown>> {
    const key = `${owner.world_id}\u0000${owner.version}`;
    let pending = this.lookups.get(key);
    if (!pending) {
      pending = this.fetchSnapshot(owner, field);
      this.lookups.set(key, pending);
      if (this.lookups.size > CACHE_SIZE) this.lookups.delete(this.lookups.keys().next().value as string);
      // A failure is not remembered: the retry asks again.
      pending.catch(() => this.lookups.delete(key));
    }
    return pending;
  }

  private async fetchSnapshot(owner: RefOwner, field: string): Promise<Record<string, unknown>> {
    const url = `${this.base}/risk-hub/worlds/${encodeURIComponent(owner.world_id)}/snapshots/lookup?version=${encodeURIComponent(owner.version)}&expand=true`;
    let token: string | undefined;
    try {
      token = await this.options.token?.();
    } catch (error) {
      throw new RefResolutionError(`hub token: ${(error as Error).message}`, field, true);
    }
    const timeoutMs = this.options.timeoutMs ?? 5_000;
    const maxBytes = this.options.maxBytes ?? MAX_REF_BYTES;
    const timeout = callTimeout(timeoutMs);
    let res: HttpAnswer;
    try {
      res = await httpRequest({
        method: 'GET',
        url: new URL(url),
        headers: { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        signal: timeout.signal,
        maxBodyBytes: maxBytes,
      });
    } catch (error) {
      if (error instanceof BodyTooLargeError && error.status >= 200 && error.status < 300) {
        const size =
          error.announced === undefined ? `more than ${maxBytes} bytes` : `${error.announced} bytes`;
        throw new RefResolutionError(
          `hub lookup ${url} is ${size}, over the ${maxBytes}-byte limit`,
          field,
          false,
          { cause: error },
        );
      }
      if (error instanceof BodyTooLargeError) throw statusError(url, error.status, field);
      const reason = timeout.signal.aborted
        ? `timed out after ${timeoutMs} ms`
        : (error as Error).message || (error as Error).name;
      throw new RefResolutionError(`hub lookup ${url}: ${reason}`, field, true, { cause: error });
    } finally {
      timeout.clear();
    }
    if (res.status < 200 || res.status >= 300)
      throw statusError(url, res.status, field, res.header('location'));
    let body: unknown;
    try {
      body = JSON.parse(res.text);
    } catch (error) {
      throw new RefResolutionError(
        `hub lookup ${url} is not valid JSON: ${(error as Error).message}`,
        field,
        false,
      );
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body))
      throw new RefResolutionError(`hub lookup ${url} did not answer a snapshot object`, field, false);
    return body as Record<string, unknown>;
  }
}

/**
 * A non-2xx answer. 429 and 5xx are worth another try; the rest are final. A redirect is not followed
 * (`fetch` followed it; node:http does not): the base URL is configuration, and a hub that answers
 * elsewhere is one to point `HUB_BASE_URL` at, not one to send the bearer token after (fetch itself
 * dropped the token on a redirect to another origin, which turned an `http://` → `https://` redirect
 * into a misleading 401). The error names where the hub pointed.
 */
function statusError(url: string, status: number, field: string, location?: string): RefResolutionError {
  const retryable = status >= 500 || status === 429;
  const why =
    status === 404
      ? 'the hub has no unexpired snapshot of that world and version'
      : status === 401 || status === 403
        ? 'the hub refused our token (check hubTokenSecretName / --hub-token)'
        : status >= 300 && status < 400
          ? `a redirect${location ? ` to ${location}` : ''}, not followed: set the hub's base URL (HUB_BASE_URL / --hub-url) to where it answers`
          : (STATUS_CODES[status] ?? '');
  return new RefResolutionError(`hub lookup ${url} answered ${status}: ${why}`, field, retryable);
}
