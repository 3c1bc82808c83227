import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultProvider } from '#lib/adapters/lambda-credentials.js';

describe('defaultProvider (the Lambda bundle’s credential chain)', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('answers the credentials Lambda puts in the environment, read at each call', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'ASIAEXAMPLE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret-1');
    vi.stubEnv('AWS_SESSION_TOKEN', 'token-1');
    const provide = defaultProvider();
    expect(await provide()).toEqual({
      accessKeyId: 'ASIAEXAMPLE',
      secretAccessKey: 'secret-1',
      sessionToken: 'token-1',
    });
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret-2');
    expect((await provide()).secretAccessKey).toBe('secret-2');
  });

  it('fails with a message naming the variables when they are missing', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', '');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', '');
    await expect(defaultProvider()()).rejects.toThrow(
      /AWS_ACCESS_KEY_ID \/ AWS_SECRET_ACCESS_KEY are not set/,
    );
  });
});
