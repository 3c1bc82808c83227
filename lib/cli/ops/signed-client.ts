import { type AwsCredentials, signedHeaders } from '#lib/adapters/aws-signing.js';
import type { OpsCommand } from '#lib/app/ops-commands.js';

/** A problem reaching or reading the target: printed as one message, exit code 1. */
export class OpsCliError extends Error {
  override readonly name = 'OpsCliError';
}

/** Fixed credentials, or a provider (the SDK's default chain) asked before each request: they may be refreshed. */
export type OpsCredentials = AwsCredentials | (() => AwsCredentials | Promise<AwsCredentials>);

/**
 * Sends ops commands to the deployed ops function URL, signed with SigV4 (`AWS_IAM` auth) by the
 * functions' own signer (lib/adapters/aws-signing.ts): the service's answer, or its error message as an
 * OpsCliError.
 */
export class SignedOpsClient {
  /**
   * How far AWS's clock is from this machine's, learnt from a refused answer's `Date` header: SigV4
   * signatures are accepted within 5 minutes of the service's clock, and a laptop's clock drifts. As the
   * SDK does, a refusal from a service more than 5 minutes away is signed again with its time.
   */
  private clockOffsetMs = 0;

  constructor(
    private readonly url: URL,
    private readonly region: string,
    private readonly credentials: OpsCredentials,
  ) {}

  async send(cmd: OpsCommand): Promise<Record<string, unknown>> {
    const body = JSON.stringify(cmd);
    const credentials = typeof this.credentials === 'function' ? await this.credentials() : this.credentials;
    let res = await this.post(body, credentials);
    let corrected: number | undefined;
    if (res.status === 403) {
      corrected = this.skewFrom(res.headers.get('date'));
      if (corrected !== undefined) {
        this.clockOffsetMs = corrected;
        await res.body?.cancel();
        res = await this.post(body, credentials);
      }
    }
    const text = await res.text();
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(text);
    } catch {
      payload = { ok: false, error: text.slice(0, 300) || res.statusText };
    }
    if (res.status === 403 && !payload.error) {
      const said = String(payload.Message ?? payload.message ?? '');
      payload.error =
        said === '' || said === 'Forbidden'
          ? 'forbidden: your identity lacks the ops-approve policy'
          : `forbidden: ${said}`;
    }
    if (res.status === 403 && corrected !== undefined)
      payload.error = `${String(payload.error)} (signed again with the service's clock, ${describeSkew(corrected)})`;
    if (!res.ok || payload.ok !== true)
      throw new OpsCliError(`${res.status}: ${String(payload.error ?? payload.message ?? res.statusText)}`);
    return payload;
  }

  private post(body: string, credentials: AwsCredentials): Promise<Response> {
    const { host: _host, ...headers } = signedHeaders({
      service: 'lambda',
      region: this.region,
      credentials,
      method: 'POST',
      url: this.url,
      headers: { 'content-type': 'application/json' },
      body,
      date: new Date(Date.now() + this.clockOffsetMs),
    });
    // Host is left to fetch, which sends the URL's, the value signed.
    return fetch(this.url, { method: 'POST', headers, body });
  }

  /** The service's clock minus this machine's, when a `Date` header shows them 5 minutes or more apart. */
  private skewFrom(dateHeader: string | null): number | undefined {
    const serverMs = dateHeader === null ? Number.NaN : Date.parse(dateHeader);
    if (!Number.isFinite(serverMs)) return undefined;
    const skew = serverMs - Date.now();
    return Math.abs(skew - this.clockOffsetMs) >= SIGNATURE_WINDOW_MS ? skew : undefined;
  }
}

/** How long a SigV4 signature is accepted either side of the service's clock. */
const SIGNATURE_WINDOW_MS = 5 * 60_000;

function describeSkew(skewMs: number): string {
  const minutes = Math.round(Math.abs(skewMs) / 60_000);
  return `which is ${minutes} min ${skewMs > 0 ? 'ahead of' : 'behind'} this machine's: set its clock right`;
}
