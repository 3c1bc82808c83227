import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubRefResolver } from '#lib/adapters/refs/hub-ref-resolver.js';
import { RefResolutionError } from '#lib/engine/errors.js';
import { type HubStub, startHubStub } from '#test/integration/support/hub-stub-server.js';

const TOKEN = 'hub-token-for-tests';
const covariance = { matrix: [[0.0004]], symbols: ['AAA'] };

/**
 * Upstream's hub (QMTL WorldService) is an outside service: its snapshot lookup is answered by the
 * loopback stand-in the integration tests use, which can also misbehave as a network or a proxy can.
 */
describe('HubRefResolver (the hub lookup over node:http)', () => {
  let hub: HubStub;
  beforeAll(async () => {
    hub = await startHubStub(
      Object.fromEntries(
        ['w', 'w-endless', 'w-drop', 'w-stall', 'w-moved', 'w-flaky'].map((world) => [
          `${world}@v1`,
          { world_id: world, version: 'v1', covariance },
        ]),
      ),
      TOKEN,
    );
  });
  afterAll(() => hub?.stop());
  const resolver = (options: { timeoutMs?: number; maxBytes?: number; token?: string } = {}) =>
    new HubRefResolver({
      baseUrl: `${hub.url}/`,
      token: async () => options.token ?? TOKEN,
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes }),
    });
  const resolve = (r: HubRefResolver, world: string) =>
    r.resolve('redis://risk-blobs:v1', 'covariance_ref', { world_id: world, version: 'v1' });
  const failure = (r: HubRefResolver, world: string) => resolve(r, world).catch((e: unknown) => e);

  it('reads the expanded snapshot with the bearer token', async () => {
    hub.requests.length = 0;
    expect(await resolve(resolver(), 'w')).toEqual(covariance);
    expect(hub.requests).toEqual([
      {
        path: '/risk-hub/worlds/w/snapshots/lookup?version=v1&expand=true',
        authorization: `Bearer ${TOKEN}`,
      },
    ]);
  });

  it('classifies 404 and 401 as final, 503 as retryable', async () => {
    await expect(
      resolve(resolver(), 'w').then(() =>
        resolver().resolve('redis://x', 'covariance_ref', { world_id: 'w', version: 'v9' }),
      ),
    ).rejects.toMatchObject({
      retryable: false,
      message: expect.stringMatching(/answered 404: the hub has no/),
    });
    await expect(failure(resolver({ token: 'wrong' }), 'w')).resolves.toMatchObject({
      retryable: false,
      message: expect.stringMatching(/answered 401: the hub refused our token/),
    });
    hub.failNext('w-flaky', 503, 1);
    await expect(failure(resolver(), 'w-flaky')).resolves.toMatchObject({
      retryable: true,
      message: expect.stringMatching(/answered 503: Service Unavailable$/),
    });
  });

  it('stops reading an answer without content-length at the limit and hangs up', async () => {
    const end = hub.misbehaveNext('w-endless', 'endless');
    const error = await failure(resolver({ maxBytes: 100_000 }), 'w-endless');
    expect(error).toBeInstanceOf(RefResolutionError);
    expect(error).toMatchObject({
      field: 'covariance_ref',
      retryable: false,
      message: expect.stringMatching(/is more than 100000 bytes, over the 100000-byte limit$/),
    });
    const { finished, bytesWritten } = await end;
    expect(finished).toBe(false);
    expect(bytesWritten).toBeLessThan(64 * 1024 * 1024);
  });

  it('reports a connection dropped mid-body as retryable, not as bad JSON', async () => {
    const end = hub.misbehaveNext('w-drop', 'drop');
    await expect(failure(resolver(), 'w-drop')).resolves.toMatchObject({
      name: 'RefResolutionError',
      retryable: true,
      message: expect.stringMatching(/: the connection closed before the answer was complete$/),
    });
    expect(await end).toEqual({ finished: false, bytesWritten: 1_000 });
  });

  it('times out an answer that stalls mid-body, as retryable, and hangs up', async () => {
    const end = hub.misbehaveNext('w-stall', 'stall');
    await expect(failure(resolver({ timeoutMs: 300 }), 'w-stall')).resolves.toMatchObject({
      retryable: true,
      message: expect.stringMatching(/: timed out after 300 ms$/),
    });
    expect(await end).toEqual({ finished: false, bytesWritten: 1_000 });
  });

  it('does not follow a redirect (nor send the token after it): a final error naming where it pointed', async () => {
    hub.requests.length = 0;
    const end = hub.misbehaveNext('w-moved', 'redirect');
    await expect(failure(resolver(), 'w-moved')).resolves.toMatchObject({
      retryable: false,
      message: expect.stringContaining(
        `answered 307: a redirect to ${hub.url}/elsewhere/risk-hub/worlds/w-moved/snapshots/lookup?version=v1&expand=true, not followed`,
      ),
    });
    await end;
    expect(hub.requests).toHaveLength(1);
  });

  it('sends through the http module’s current request function, so the Tracer patching it later sees it', async () => {
    // Powertools' Tracer (captureHTTPsGlobal) replaces http.request / https.request on the module objects.
    const original = http.request;
    let calls = 0;
    http.request = ((...args: Parameters<typeof http.request>) => {
      calls += 1;
      return original(...args);
    }) as typeof http.request;
    try {
      expect(await resolve(resolver(), 'w')).toEqual(covariance);
    } finally {
      http.request = original;
    }
    expect(calls).toBe(1);
  });

  it('asks again after a failure (not remembered), and once for a version it has read', async () => {
    const r = resolver();
    hub.failNext('w-flaky', 503, 1);
    await expect(resolve(r, 'w-flaky')).rejects.toMatchObject({ retryable: true });
    hub.requests.length = 0;
    expect(await resolve(r, 'w-flaky')).toEqual(covariance);
    expect(await resolve(r, 'w-flaky')).toEqual(covariance);
    expect(hub.requests).toHaveLength(1);
  });
});
