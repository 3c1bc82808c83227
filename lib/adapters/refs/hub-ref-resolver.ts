import { RefResolutionError } from '#lib/engine/errors.js';
import type { RefOwner, RefResolver } from '#lib/engine/ports.js';
import { MAX_REF_BYTES } from './ref-resolver.js';

export interface HubRefResolverOptions {
  /** The hub's base URL, e.g. `https://worldservice.example.com` (the path `/risk-hub/...` is appended). */
  baseUrl: string;
  /** The bearer token, read once and cached by the caller; undefined sends no Authorization header. */
  token?: () => Promise<string | undefined>;
  /** Per-request time limit. Default 5 s. */
  timeoutMs?: number;
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
    let res: Response;
    try {
      res = await fetch(url, {
        headers: { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 5_000),
      });
    } catch (error) {
      const reason = (error as Error).name === 'TimeoutError' ? 'timed out' : (error as Error).message;
      throw new RefResolutionError(`hub lookup ${url}: ${reason}`, field, true);
    }
    if (!res.ok) {
      await res.body?.cancel();
      const retryable = res.status >= 500 || res.status === 429;
      const why =
        res.status === 404
          ? 'the hub has no unexpired snapshot of that world and version'
          : res.status === 401 || res.status === 403
            ? 'the hub refused our token (check hubTokenSecretName / --hub-token)'
            : res.statusText;
      throw new RefResolutionError(`hub lookup ${url} answered ${res.status}: ${why}`, field, retryable);
    }
    const length = Number(res.headers.get('content-length') ?? 0);
    if (length > MAX_REF_BYTES) {
      await res.body?.cancel();
      throw new RefResolutionError(
        `hub lookup ${url} is ${length} bytes, over the ${MAX_REF_BYTES}-byte limit`,
        field,
        false,
      );
    }
    let body: unknown;
    try {
      body = await res.json();
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
