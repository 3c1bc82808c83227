/**
 * Stands in for `semver` in the Lambda bundle only (an esbuild alias in infra/constructs/lambda-bundling.ts).
 * aws-xray-sdk-core requires it for one call, `semver.gte(AWS.VERSION, '2.7.15')` in its AWS SDK v2
 * patcher (`captureAWS`), which this project never uses (the Tracer captures SDK v3 clients); the package
 * is 28 KB of the Tracer's chunk and builds some forty regular expressions when it loads, at every cold
 * start with tracing on. This is that one function, for plain `major.minor.patch` versions.
 */
export function gte(version: string, minimum: string): boolean {
  const parse = (v: string) => v.split(/[.+-]/, 3).map((part) => Number.parseInt(part, 10) || 0);
  const a = parse(version);
  const b = parse(minimum);
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return true;
}
