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
  const xraySent = whenXraySent();
  const invokeStart = performance.now();
  const invokeStartCpu = cpuMs();
  result = await mod.handler(event, context);
  invokeMs = performance.now() - invokeStart;
  invokeCpuMs = cpuMs() - invokeStartCpu;
  await xraySent();
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

/**
 * Where the function traces (its init loaded node:dgram for the X-Ray emitter), counts the UDP sends it
 * makes from here on; the returned function resolves once none is in flight, so every segment the
 * invocation sent reached the daemon's socket before the process exits (Lambda would freeze it with sends
 * pending and finish them on the next thaw; a process that exits loses them). The emitter batches its sends
 * through temporary sockets, each send started from the callback of the one before, so the count only
 * reaches zero when the queue is empty. Not measured: set up after init, awaited after the invocation.
 */
function whenXraySent() {
  if (!process.moduleLoadList.includes('NativeModule dgram')) return async () => {};
  const { Socket } = process.getBuiltinModule('node:dgram');
  const send = Socket.prototype.send;
  let inFlight = 0;
  let idle = () => {};
  Socket.prototype.send = function (...args) {
    const last = args.length - 1;
    const callback = typeof args[last] === 'function' ? args[last] : undefined;
    inFlight++;
    const done = (...results) => {
      try {
        callback?.(...results);
      } finally {
        if (--inFlight === 0) idle();
      }
    };
    if (callback) args[last] = done;
    else args.push(done);
    return send.apply(this, args);
  };
  return () => (inFlight === 0 ? Promise.resolve() : new Promise((resolve) => (idle = resolve)));
}
