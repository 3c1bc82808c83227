import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { RefResolutionError } from '../../engine/errors.js';
import type { RefResolver } from '../../engine/ports.js';

/** Largest referenced document we will parse (a 1,000-strategy covariance is ~30 MB of JSON). */
const MAX_REF_BYTES = 64 * 1024 * 1024;

export interface RefResolverOptions {
  /** S3 client for `s3://`; absent where S3 is not available (local runs), which refuses s3 refs. */
  s3?: S3Client;
  /** Whether `file://` refs are allowed (local runs only; never in Lambda). */
  allowFiles: boolean;
}

/**
 * Resolves `covariance_ref`, `realized_returns_ref` and `stress_ref`. Every failure is a
 * RefResolutionError naming the field; only transient ones (throttling, 5xx) are retryable.
 */
export class UriRefResolver implements RefResolver {
  constructor(private readonly options: RefResolverOptions) {}

  async resolve(uri: string, field: string): Promise<unknown> {
    const scheme = uri.slice(0, uri.indexOf('://'));
    const text = await (scheme === 's3'
      ? this.readS3(uri, field)
      : scheme === 'file'
        ? this.readFile(uri, field)
        : Promise.reject(
            new RefResolutionError(
              `scheme '${scheme}://' is not supported by this deployment (s3:// and file:// are)`,
              field,
              false,
            ),
          ));
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new RefResolutionError(`${uri} is not valid JSON: ${(error as Error).message}`, field, false, {
        cause: error,
      });
    }
  }

  private async readFile(uri: string, field: string): Promise<string> {
    if (!this.options.allowFiles)
      throw new RefResolutionError('file:// references are only resolved in local runs', field, false);
    try {
      return await readFile(fileURLToPath(uri), 'utf8');
    } catch (error) {
      throw new RefResolutionError(
        `cannot read ${uri}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        field,
        false,
        { cause: error },
      );
    }
  }

  private async readS3(uri: string, field: string): Promise<string> {
    const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
    if (!match) throw new RefResolutionError(`${uri} is not of the form s3://bucket/key`, field, false);
    if (!this.options.s3)
      throw new RefResolutionError('s3:// references need S3, which this run does not have', field, false);
    try {
      const out = await this.options.s3.send(new GetObjectCommand({ Bucket: match[1], Key: match[2] }));
      if ((out.ContentLength ?? 0) > MAX_REF_BYTES) {
        throw new RefResolutionError(
          `${uri} is ${out.ContentLength} bytes, over the ${MAX_REF_BYTES}-byte limit`,
          field,
          false,
        );
      }
      return (await out.Body?.transformToString('utf8')) ?? '';
    } catch (error) {
      if (error instanceof RefResolutionError) throw error;
      // Final answers from S3; anything else (throttling, 5xx, network) is worth a retry.
      if (['NoSuchKey', 'NoSuchBucket', 'AccessDenied'].includes((error as { name?: string }).name ?? '')) {
        throw new RefResolutionError(`${uri}: ${(error as Error).name}`, field, false, { cause: error });
      }
      throw new RefResolutionError(`${uri}: ${(error as Error).message}`, field, true, { cause: error });
    }
  }
}
