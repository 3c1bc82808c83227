import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { loadavg } from 'node:os';
import { SignatureV4 } from '@smithy/signature-v4';
import { signedHeaders } from '#lib/adapters/aws-signing.js';

/**
 * Signing 1,000 DynamoDB PutItem requests (a ~2 KB body each): lib/adapters/aws-signing.ts against
 * `@smithy/signature-v4` as the functions used it before (node:crypto behind it), alternating batches in
 * one run, medians of the per-batch times and of the per-round ratio. `npx tsx bench/sigv4-signing.ts`.
 * A warm figure: what a cold start saves is in bench/cold-start.ts.
 */

type SourceData = string | ArrayBuffer | ArrayBufferView;

function bytes(data: SourceData): string | Uint8Array {
  if (typeof data === 'string') return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

/** smithy's Checksum on node:crypto: lib/adapters/node-sha256.ts as the signer used it before. */
class NodeSha256 {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh();
  }
  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(this.secret));
  }
}

const REQUESTS = 1_000;
const ROUNDS = Number(process.argv[2] ?? 15);
const credentials = {
  accessKeyId: 'ASIAEXAMPLEEXAMPLE00',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  sessionToken: 'IQoJb3JpZ2luX2VjE'.repeat(40),
};
const url = new URL('https://dynamodb.eu-west-1.amazonaws.com/');
const headers = { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.PutItem' };
const bodies = Array.from({ length: REQUESTS }, (_, i) =>
  JSON.stringify({ TableName: 'signals', Item: { pk: { S: `w#${i}` }, body: { S: 'x'.repeat(2_000) } } }),
);

function ours(): number {
  const start = performance.now();
  for (const body of bodies)
    signedHeaders({
      service: 'dynamodb',
      region: 'eu-west-1',
      credentials,
      method: 'POST',
      url,
      headers,
      body,
    });
  return performance.now() - start;
}

async function smithy(): Promise<number> {
  const start = performance.now();
  for (const body of bodies) {
    // Built per request, as lib/adapters/aws-signing.ts did before.
    const signer = new SignatureV4({
      service: 'dynamodb',
      region: 'eu-west-1',
      credentials,
      sha256: NodeSha256,
      uriEscapePath: true,
    });
    await signer.sign({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      path: url.pathname,
      query: {},
      headers: { host: url.host, ...headers },
      body,
    });
  }
  return performance.now() - start;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

ours();
await smithy();
const times = { ours: [] as number[], smithy: [] as number[], ratio: [] as number[] };
for (let round = 0; round < ROUNDS; round++) {
  let oursMs: number;
  let smithyMs: number;
  if (round % 2 === 0) {
    oursMs = ours();
    smithyMs = await smithy();
  } else {
    smithyMs = await smithy();
    oursMs = ours();
  }
  times.ours.push(oursMs);
  times.smithy.push(smithyMs);
  times.ratio.push(oursMs / smithyMs);
}
console.log(
  `signing ${REQUESTS} PutItem requests (~2 KB bodies), ${ROUNDS} alternating rounds, load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}:`,
);
console.log(`  ours (node:crypto)           median ${median(times.ours).toFixed(1)} ms`);
console.log(`  @smithy/signature-v4 (node)  median ${median(times.smithy).toFixed(1)} ms`);
console.log(`  ours / smithy, per round     median ×${median(times.ratio).toFixed(2)}`);
