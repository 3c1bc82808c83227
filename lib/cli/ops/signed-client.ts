import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { OpsCommand } from '#lib/app/ops-commands.js';

/** A problem reaching or reading the target: printed as one message, exit code 1. */
export class OpsCliError extends Error {
  override readonly name = 'OpsCliError';
}

type Credentials = ConstructorParameters<typeof SignatureV4>[0]['credentials'];

/**
 * Sends ops commands to the deployed ops function URL, signed with SigV4 (`AWS_IAM` auth): the
 * service's answer, or its error message as an OpsCliError.
 */
export class SignedOpsClient {
  private readonly signer: SignatureV4;

  constructor(
    private readonly url: URL,
    region: string,
    credentials: Credentials,
  ) {
    this.signer = new SignatureV4({ service: 'lambda', region, credentials, sha256: Sha256 });
  }

  async send(cmd: OpsCommand): Promise<Record<string, unknown>> {
    const body = JSON.stringify(cmd);
    const url = this.url;
    const signed = await this.signer.sign({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      path: url.pathname,
      query: {},
      headers: { host: url.hostname, 'content-type': 'application/json' },
      body,
    });
    const res = await fetch(url, { method: 'POST', headers: signed.headers, body });
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
