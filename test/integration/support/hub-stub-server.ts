import { createServer, type Server } from 'node:http';

export interface HubStub {
  url: string;
  /** Every request: path and query, and the Authorization header it carried. */
  requests: { path: string; authorization: string | undefined }[];
  /** Answer the next N lookups of a world with this status first (e.g. 503), then normally. */
  failNext(world: string, status: number, times: number): void;
  /**
   * The next lookup of `world` misbehaves as a network or a proxy can: `endless` sends a chunked body
   * (no content-length) of up to 64 MB, `drop` announces 2,000 bytes and drops the connection after
   * 1,000, `stall` sends those 1,000 and then nothing, `redirect` answers 307 to another path. Settles
   * when that answer's connection closes: whether the stand-in wrote all it meant to, and how much.
   */
  misbehaveNext(
    world: string,
    how: 'endless' | 'drop' | 'stall' | 'redirect',
  ): Promise<{ finished: boolean; bytesWritten: number }>;
  stop(): Promise<void>;
}

/**
 * Upstream's hub (QMTL WorldService) is an outside service, so its snapshot lookup is tested
 * against this stand-in: `GET /risk-hub/worlds/{world}/snapshots/lookup?version=V&expand=true`
 * answering the expanded snapshot (as upstream's `routers/risk_hub.py` does), 404
 * `{"detail": "snapshot not found"}` for an unknown one, and 401 for a wrong bearer token.
 */
export async function startHubStub(
  snapshots: Record<string, Record<string, unknown>>,
  token: string,
): Promise<HubStub> {
  const requests: HubStub['requests'] = [];
  const failures = new Map<string, { status: number; left: number }>();
  const misbehaviours = new Map<
    string,
    {
      how: Parameters<HubStub['misbehaveNext']>[1];
      settle: (end: { finished: boolean; bytesWritten: number }) => void;
    }
  >();
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://hub');
    requests.push({ path: `${url.pathname}${url.search}`, authorization: req.headers.authorization });
    const send = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
    };
    const match = /^\/risk-hub\/worlds\/([^/]+)\/snapshots\/lookup$/.exec(url.pathname);
    if (req.method !== 'GET' || !match) return send(404, { detail: 'Not Found' });
    if (req.headers.authorization !== `Bearer ${token}`) return send(401, { detail: 'unauthorized' });
    const world = decodeURIComponent(match[1]!);
    const misbehaviour = misbehaviours.get(world);
    if (misbehaviour) {
      misbehaviours.delete(world);
      let bytesWritten = 0;
      res.on('close', () => misbehaviour.settle({ finished: res.writableFinished, bytesWritten }));
      const { how } = misbehaviour;
      if (how === 'redirect') {
        res.writeHead(307, { location: `${hubUrl}/elsewhere${url.pathname}${url.search}` });
        return res.end();
      }
      if (how !== 'endless') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': 2_000 });
        res.write(`{"pad":"${'x'.repeat(992)}`, () => {
          bytesWritten = 1_000;
          if (how === 'drop') req.socket.destroy();
        });
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = 'x'.repeat(16 * 1024);
      const more = (): void => {
        if (res.destroyed) return;
        if (bytesWritten >= 64 * 1024 * 1024) return void res.end();
        bytesWritten += chunk.length;
        if (res.write(chunk)) setImmediate(more);
        else res.once('drain', more);
      };
      return more();
    }
    const failure = failures.get(world);
    if (failure && failure.left > 0) {
      failure.left -= 1;
      return send(failure.status, { detail: 'unavailable' });
    }
    const snapshot = snapshots[`${world}@${url.searchParams.get('version')}`];
    if (!snapshot || url.searchParams.get('expand') !== 'true')
      return send(404, { detail: 'snapshot not found' });
    send(200, snapshot);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const hubUrl = `http://127.0.0.1:${port}`;
  return {
    url: hubUrl,
    requests,
    failNext: (world, status, times) => failures.set(world, { status, left: times }),
    misbehaveNext: (world, how) => new Promise((settle) => misbehaviours.set(world, { how, settle })),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
