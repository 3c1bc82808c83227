import { environmentCredentials } from './aws-signing.js';

/**
 * Stands in for `@aws-sdk/credential-provider-node` in the Lambda bundle only (an esbuild alias in
 * infra/constructs/lambda-bundling.ts): Lambda always hands a function its role's credentials in the
 * environment, so the SDK's default chain (SSO, STS web identity, ini files, IMDS: ~90 KB of bundle with
 * the STS and SSO clients it carries) is never needed there. Local runs and the CLI keep the full chain.
 */
export function defaultProvider(): () => Promise<{
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}> {
  return async () => {
    const credentials = environmentCredentials();
    if (credentials.accessKeyId === '' || credentials.secretAccessKey === '')
      throw new Error(
        'AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are not set: the Lambda bundle reads credentials only from the environment Lambda provides',
      );
    return credentials;
  };
}
