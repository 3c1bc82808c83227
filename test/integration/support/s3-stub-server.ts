import { createServer, type Server } from 'node:http';

/**
 * S3 cannot run here, so `s3://` refs are tested against this stand-in: a loopback HTTP server
 * answering path-style GetObject (`GET /bucket/key`) from an in-memory map, and S3's XML
 * `NoSuchKey` error otherwise. The engine's S3 reader (signed GetObject over node:http) talks to it by endpoint, so the
 * adapter's request, response and error handling are what is exercised (the signature itself is checked
 * in test/unit/s3-object-reader.test.ts).
 */
export async function startS3Stub(
  objects: Record<string, string>,
): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!.slice(1));
    const body = req.method === 'GET' ? objects[path] : undefined;
    if (body === undefined) {
      res.writeHead(404, { 'content-type': 'application/xml' });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>${path}</Key></Error>`,
      );
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
