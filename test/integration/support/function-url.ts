import { randomUUID } from 'node:crypto';

/**
 * A Lambda function URL request (payload 2.0, AWS_IAM auth) as the ops function receives it: a POST of
 * `body` (a string is sent as is) signed by `userArn`, or unsigned without one. The IAM ids follow the
 * caller's kind, as IAM issues them: a role session's are temporary (ASIA…, AROA…), a user's long-term
 * (AKIA…, AIDA…).
 */
export function functionUrlEvent(body: unknown, userArn?: string | null): never {
  const session = userArn?.includes(':assumed-role/') ?? false;
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/',
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    requestContext: {
      accountId: '123456789012',
      apiId: 'url-id',
      domainName: 'url-id.lambda-url.us-east-1.on.aws',
      domainPrefix: 'url-id',
      http: { method: 'POST', path: '/', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: '10/Mar/2025:21:00:00 +0000',
      timeEpoch: 0,
      ...(userArn
        ? {
            authorizer: {
              iam: {
                accessKey: session ? 'ASIA' : 'AKIA',
                accountId: '123456789012',
                callerId: session ? 'AROA' : 'AIDA',
                userArn,
                userId: session ? 'AROA' : 'AIDA',
                cognitoIdentity: null,
                principalOrgId: null,
              },
            },
          }
        : {}),
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    isBase64Encoded: false,
  } as never;
}
