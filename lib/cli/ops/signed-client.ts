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
  constructor(
    private readonly url: URL,
    private readonly region: string,
    private readonly credentials: OpsCredentials,
  ) {}

  async send(cmd: OpsCommand): Promise<Record<string, unknown>> {
    const body = JSON.stringify(cmd);
    const url = this.url;
    const credentials = typeof this.credentials === 'function' ? await this.credentials() : this.credentials;
    const { host: _host, ...headers } = signedHeaders({
      service: 'lambda',
      region: this.region,
      credentials,
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json' },
      body,
    });
    // Host is left to fetch, which sends the URL's, the value signed.
    const res = await fetch(url, { method: 'POST', headers, body });
    const text = await res.text();
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(text);
    } catch {
      payload = { ok: false, error: text.slice(0, 300) || res.statusText };
    }
    if (res.status === 403 && !payload.error)
      payload.error = 'forbidden: your identity lacks the ops-approve policy';
    if (!res.ok || payload.ok !== true)
      throw new OpsCliError(`${res.status}: ${String(payload.error ?? payload.message ?? res.statusText)}`);
    return payload;
  }
}
