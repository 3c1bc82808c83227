import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_BUS_NAME } from '#lib/local/local-stack.js';
import { usePipeline } from './support/pipeline.js';
import { startS3Stub } from './support/s3-stub-server.js';
import { putEntry, varianceFor } from './support/snapshots.js';

/** A covariance that puts 1-day 99% VaR at 3.4%, as a referenced document. */
function covarianceDoc(): string {
  const v = varianceFor(0.034);
  return JSON.stringify({
    'alpha,alpha': v,
    'beta,beta': v,
    'gamma,gamma': v,
    'alpha,beta': 0,
    'alpha,gamma': 0,
    'beta,gamma': 0,
  });
}

describe('*_ref resolution (file:// locally, s3:// through the signed S3 reader)', () => {
  let s3: Awaited<ReturnType<typeof startS3Stub>>;
  const dir = mkdtempSync(join(tmpdir(), 'exit-engine-refs-'));

  beforeAll(async () => {
    s3 = await startS3Stub({
      'risk-bucket/worlds/w-s3/cov.json': covarianceDoc(),
      'risk-bucket/bad.json': '{"alpha,alpha": "x"',
    });
  });
  afterAll(async () => {
    await s3?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  // Started after the S3 stand-in, stopped before it.
  const p = usePipeline(() => ({ name: 'refs', clock: 'event-time', s3Endpoint: s3.endpoint }));

  const putWithRef = async (world: string, ref: string) => {
    const entry = putEntry(
      {
        world,
        version: 'v1',
        asOf: '2025-03-10T21:00:00Z',
        data: { covariance: undefined, covariance_ref: ref },
      },
      LOCAL_BUS_NAME,
    );
    // A snapshot that carries a ref instead of the inline covariance.
    const detail = JSON.parse(entry.Detail!);
    delete detail.data.covariance;
    await p.send({ ...entry, Detail: JSON.stringify(detail) });
  };
  const emitted = (world: string) => p.emitted(world);
  const rejection = async (world: string) => (await p.read.audit(world)).find((r) => r.kind === 'rejection');

  it('evaluates a covariance_ref read from a file:// document', async () => {
    const path = join(dir, 'cov.json');
    writeFileSync(path, covarianceDoc());
    await putWithRef('w-file', pathToFileURL(path).href);
    const [event] = emitted('w-file');
    expect(event?.data.signals[0]?.reduction_ratio).toBeCloseTo(1 - 0.02 / 0.034, 6);
  });

  it('evaluates a covariance_ref read from s3://', async () => {
    await putWithRef('w-s3', 's3://risk-bucket/worlds/w-s3/cov.json');
    expect(emitted('w-s3')).toHaveLength(1);
  });

  it('rejects a missing S3 object with the field and the reason, without retrying', async () => {
    await putWithRef('w-s3-missing', 's3://risk-bucket/nope.json');
    expect(emitted('w-s3-missing')).toHaveLength(0);
    expect((await rejection('w-s3-missing'))?.reasons).toEqual([
      expect.stringMatching(/^covariance_ref: s3:\/\/risk-bucket\/nope\.json: NoSuchKey/),
    ]);
    expect(p.stack.outcomes.filter((o) => o.world_id === 'w-s3-missing')).toHaveLength(1);
  });

  it('rejects a referenced document that is not valid JSON', async () => {
    await putWithRef('w-s3-bad', 's3://risk-bucket/bad.json');
    expect((await rejection('w-s3-bad'))?.reasons).toEqual([
      expect.stringMatching(/^covariance_ref: s3:\/\/risk-bucket\/bad\.json is not valid JSON/),
    ]);
  });

  it('refuses redis:// without a hub, saying what to configure', async () => {
    await putWithRef('w-redis', 'redis://cache:6379/cov');
    expect((await rejection('w-redis'))?.reasons).toEqual([
      expect.stringMatching(
        /^covariance_ref: scheme 'redis:\/\/' cannot be read directly .* hubBaseUrl, or --hub-url/,
      ),
    ]);
  });

  it('rejects a missing file:// document', async () => {
    await putWithRef('w-file-missing', pathToFileURL(join(dir, 'absent.json')).href);
    expect((await rejection('w-file-missing'))?.reasons).toEqual([
      expect.stringMatching(/^covariance_ref: cannot read .*absent\.json: ENOENT/),
    ]);
  });
});
