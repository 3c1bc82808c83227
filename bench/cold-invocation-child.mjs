// One cold invocation in a fresh Node process, as Lambda runs a function: import the bundle (init), then
// call its handler once with the event in argv[3] (a JSON file; `-` imports only). Plain JavaScript run
// by plain `node`, so nothing but the bundle is loaded between the two clocks. The result goes to fd 3:
// stdout and stderr are the function's own (Powertools' logs and EMF metrics, as in CloudWatch).
import { readFileSync, writeSync } from 'node:fs';

const [bundleUrl, eventFile] = process.argv.slice(2);
const event = eventFile === '-' ? undefined : JSON.parse(readFileSync(eventFile, 'utf8'));
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

// With BENCH_AFTER_LAMBDA_RUNTIME=1, first what Lambda's runtime interface client does before it imports a
// handler (aws/aws-lambda-nodejs-runtime-interface-client, src/index.mjs `run`: `new RAPIDClient(...)`,
// which requires `http` and builds a keep-alive Agent, then `UserFunction.load`), so init counts only what
// the function adds to the process Lambda hands it. Its console patch writes to stdout only when something
// logs, so stdout is left for the function to open, as Powertools' Logger does at init.
if (process.env.BENCH_AFTER_LAMBDA_RUNTIME === '1') {
  const { default: http } = await import('node:http');
  new http.Agent({ keepAlive: true, maxSockets: 1 });
}

const start = performance.now();
const startCpu = cpuMs();
const mod = await import(bundleUrl);
const initMs = performance.now() - start;
const initCpuMs = cpuMs() - startCpu;

let result;
let invokeMs = 0;
let invokeCpuMs = 0;
if (event !== undefined) {
  // The Lambda runtime sets the trace header per invocation, after init.
  if (process.env.BENCH_X_AMZN_TRACE_ID) process.env._X_AMZN_TRACE_ID = process.env.BENCH_X_AMZN_TRACE_ID;
  const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'bench-function';
  const deadline = Date.now() + 30_000;
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: `bench-${process.pid}`,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'bench',
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
  const invokeStart = performance.now();
  const invokeStartCpu = cpuMs();
  result = await mod.handler(event, context);
  invokeMs = performance.now() - invokeStart;
  invokeCpuMs = cpuMs() - invokeStartCpu;
}

writeSync(
  3,
  JSON.stringify({
    startupCpuMs: startCpu,
    initMs,
    initCpuMs,
    invokeMs,
    invokeCpuMs,
    outcome: result?.outcome ?? null,
    signals: result?.signals ?? null,
  }),
);
// Keep-alive sockets would hold the process open for seconds; Lambda freezes it instead.
process.exit(0);
