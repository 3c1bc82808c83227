import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scanCovarianceMapText } from '#lib/contracts/covariance-text.js';
import { RefResolutionError } from '#lib/engine/errors.js';
import type { RefOwner, RefResolver } from '#lib/engine/ports.js';
import { type S3ObjectReader, S3ReadError } from './s3-object-reader.js';

/** Largest referenced document we will parse (a 1,000-strategy covariance is ~30 MB of JSON). */
export const MAX_REF_BYTES = 64 * 1024 * 1024;

export interface RefResolverOptions {
  /** Reads `s3://` objects; absent where S3 is not available (local runs), which refuses s3 refs. */
  s3?: S3ObjectReader;
  /** Whether `file://` refs are allowed (local runs only; never in Lambda). */
  allowFiles: boolean;
  /**
   * Where relative `file://` refs are read from: the directory upstream's hub ran in. Its file blob
   * store (`JsonBlobStore`, default base_dir `.risk_blobs`) writes `file://.risk_blobs/<name>.json`,
   * relative to the hub's working directory.
   */
  fileRoot?: string;
  /** Reads what this deployment cannot read itself (`redis://`, files in Lambda) through the hub's API. */
  hub?: RefResolver;
}

/** Whether a `file://` ref names a relative path, as upstream's JsonBlobStore writes with a relative base_dir. */
export function isRelativeFileRef(uri: string): boolean {
  const rest = uri.slice('file://'.length);
  return !rest.startsWith('/') && !rest.startsWith('localhost/');
}

/**
 * Resolves `covariance_ref`, `realized_returns_ref` and `stress_ref`: `s3://` and `file://` directly,
 * anything else (and files where files are not readable) through the hub when one is configured.
 * Every failure is a RefResolutionError naming the field; only transient ones are retryable.
 */
export class UriRefResolver implements RefResolver {
  constructor(private readonly options: RefResolverOptions) {}

  async resolve(uri: string, field: string, owner: RefOwner): Promise<unknown> {
    const scheme = uri.slice(0, uri.indexOf('://'));
    const direct =
      scheme === 's3'
        ? this.options.s3 !== undefined
        : scheme === 'file'
          ? this.options.allowFiles && (!isRelativeFileRef(uri) || this.options.fileRoot !== undefined)
          : false;
    if (!direct && this.options.hub) return this.options.hub.resolve(uri, field, owner);
    const text = await (scheme === 's3'
      ? this.readS3(uri, field)
      : scheme === 'file'
        ? this.readFile(uri, field)
        : Promise.reject(
            new RefResolutionError(
              `scheme '${scheme}://' cannot be read directly (s3:// and file:// can); configure the hub's API (context hubBaseUrl, or --hub-url locally) to resolve it through the hub`,
              field,
              false,
            ),
          ));
    // A covariance map is read straight from its text into typed arrays (half a million keys would
    // otherwise become a dictionary object first); anything unusual comes back null and is parsed.
    if (field === 'covariance_ref') {
      const scanned = scanCovarianceMapText(text);
      if (scanned) return scanned;
    }
    try {
      return JSON.parse(text);
    } catch (error) {
      const literal = nonFiniteLiteral(text);
      const why = literal
        ? `it holds ${literal}: Python's json.dumps writes NaN and Infinity by default, JSON has no such numbers, and every value here must be a finite number`
        : (error as Error).message;
      throw new RefResolutionError(`${uri} is not valid JSON: ${why}`, field, false, { cause: error });
    }
  }

  private filePath(uri: string, field: string): string {
    if (!isRelativeFileRef(uri)) {
      try {
        return fileURLToPath(uri);
      } catch (error) {
        throw new RefResolutionError(`${uri} is not a file URL: ${(error as Error).message}`, field, false);
      }
    }
    const relative = decodeURIComponent(uri.slice('file://'.length));
    if (this.options.fileRoot === undefined) {
      throw new RefResolutionError(
        `${uri} is a relative path (upstream's file blob store writes these with its default base_dir '.risk_blobs'); ` +
          'give the hub an absolute blob directory, or run with --file-ref-root DIR (the directory the hub runs in), or --hub-url to read it through the hub',
        field,
        false,
      );
    }
    const path = resolvePath(this.options.fileRoot, relative);
    if (isAbsolute(relative) || !path.startsWith(resolvePath(this.options.fileRoot))) {
      throw new RefResolutionError(`${uri} points outside --file-ref-root`, field, false);
    }
    return path;
  }

  private async readFile(uri: string, field: string): Promise<string> {
    if (!this.options.allowFiles)
      throw new RefResolutionError(
        'file:// references are only read in local runs; configure the hub API (context hubBaseUrl) to resolve them through the hub',
        field,
        false,
      );
    const path = this.filePath(uri, field);
    try {
      return await readFile(path, 'utf8');
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
      return await this.options.s3.getText(match[1]!, match[2]!, MAX_REF_BYTES);
    } catch (error) {
      if (!(error instanceof S3ReadError))
        throw new RefResolutionError(`${uri}: ${(error as Error).message}`, field, true, { cause: error });
      // S3's final answers (NoSuchKey, NoSuchBucket, AccessDenied, too large) are not retried; throttling,
      // 5xx and the network are.
      const what =
        error.code === 'TooLarge'
          ? ` is ${error.message}`
          : error.retryable
            ? `: ${error.message}`
            : `: ${error.code}`;
      throw new RefResolutionError(`${uri}${what}`, field, error.retryable, { cause: error });
    }
  }
}

/**
 * The first NaN / Infinity / -Infinity written as a bare number (what Python's `json.dumps` emits unless
 * `allow_nan=False`), with the key it is the value of, or its offset: so a producer's non-finite value is
 * refused naming where it is, not as an anonymous parse error.
 */
export function nonFiniteLiteral(text: string): string | undefined {
  const found = /(?<=[:[,]\s*)(-?Infinity|NaN)(?=\s*[,\]}])/.exec(text);
  if (!found) return undefined;
  const key = /"((?:[^"\\]|\\.)*)"\s*:\s*$/.exec(
    text.slice(Math.max(0, found.index - 300), found.index),
  )?.[1];
  return key === undefined ? `${found[1]} at character ${found.index}` : `${found[1]} at "${key}"`;
}
