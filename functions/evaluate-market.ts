// TEMPORARY PLACEHOLDER (infra work): lets the CDK app synthesize until the real handler lands.
// The lead overwrites this file; it does nothing.
export const handler = async () => ({});
