import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { writeIfChanged } from './build-cache-files.js';

/**
 * aws-xray-sdk-core in the Lambda bundles without what can never run in our functions (issue 12 item 5:
 * the Tracer's chunk, loaded at every cold start where tracing is on).
 *
 * Powertools' Tracer uses the SDK for its context (cls-hooked's namespace, which the bundles take from
 * lib/runtime/cls-namespace.ts instead: `CLS_NAMESPACE_MODULE`), segments and subsegments, the UDP emitter,
 * the Lambda facade segment (env/aws_lambda.js) and the http(s) patcher (`captureHTTPsGlobal`); its fetch
 * instrumentation is its own (diagnostics_channel). What the SDK loads besides, and we never call, is
 * listed in `XRAY_STAND_INS` with the reason it cannot run. Those modules are reached by *relative*
 * `require`s inside the package (`aws-xray.js` requires `./patchers/aws_p`, `env/aws_lambda.js`
 * `../middleware/mw_utils`, which requires the samplers), which esbuild's `alias` cannot redirect, and
 * `buildSync` (CDK's local bundling calls the build synchronously) takes no plugins. So the build writes a
 * copy of the package's `dist/lib` under `node_modules/.cache/lambda-xray-sdk-core`, each listed module
 * replaced by a stand-in with the same exports, and aliases `aws-xray-sdk-core` to the copy. Chosen over a
 * lean aggregator of our own (the package's own `aws-xray.js` stays the API, so every export stays where it
 * was) and over an async esbuild with a resolve plugin in a child process (a second Node process per
 * function in every `cdk synth` and infra test). The copy is under the same `node_modules` as the package
 * (installed at its top level), so its bare `require`s (atomic-batcher) resolve as the package's own do.
 *
 * A stand-in throws `XraySdkNotBundledError`, naming the member, whenever it is called or a value of it
 * read: nothing is silently skipped. Loading one does nothing, and that is all our functions do with them
 * (`aws-xray.js` puts their functions into its API object), with one exception, a no-op by design: in Lambda,
 * env/aws_lambda.js calls `mwUtils.disableCentralizedSampling()` at load, which only stores the local
 * sampler where the HTTP server middleware would read it (the facade segment carries Lambda's sampling
 * decision).
 */

/**
 * The shape of a module's exports: a function (or class) that throws, a value whose read throws, `true`, or
 * a function that does nothing (only where the real one has no effect in our functions, said beside it).
 */
export type StandInShape = 'function' | 'value' | 'no-op' | true | StandInObject;
/** An object (or, with `call`, a throwing function) with these own members. */
export interface StandInObject {
  call?: boolean;
  members: Readonly<Record<string, StandInShape>>;
}

/** A module of aws-xray-sdk-core (path under `dist/lib`) left out of the bundles, and why it cannot run. */
export interface StandIn {
  /** What the module exports is called (its error messages name it). */
  name: string;
  reason: string;
  exports: StandInShape;
}

const NO_SDK_CLIENT = 'no function builds an AWS SDK client (lib/adapters/aws-json.ts signs its own calls)';
const PLUGIN: StandInShape = { members: { getData: 'function', originName: 'value' } };

/**
 * Each module replaced, with the exports its stand-in mirrors (test/unit/xray-sdk-trim.test.ts checks them
 * against the package's own). What the removed modules alone required goes with them: the AWS parameter
 * whitelist (`aws_whitelist.json`, `call_capturer.js`), `semver`, `@smithy/service-error-classification`,
 * the samplers with their rule and target pollers, service connector and reservoirs, the plugins' metadata
 * client.
 */
export const XRAY_STAND_INS: Readonly<Record<string, StandIn>> = {
  'patchers/aws_p.js': {
    name: 'aws_p',
    reason: `the AWS SDK v2 patcher (captureAWS, captureAWSClient): ${NO_SDK_CLIENT}`,
    exports: { members: { captureAWSClient: 'function', captureAWS: 'function' } },
  },
  'patchers/aws3_p.js': {
    name: 'aws3_p',
    reason: `the AWS SDK v3 patcher (captureAWSv3Client): ${NO_SDK_CLIENT}; DynamoDB calls get their subsegment from lib/adapters/dynamodb/client/tracing.ts`,
    exports: { members: { __esModule: true, captureAWSClient: 'function' } },
  },
  'segments/attributes/aws.js': {
    name: 'Aws',
    reason: `the AWS SDK call attributes and parameter whitelist of the SDK patchers: ${NO_SDK_CLIENT}`,
    exports: { call: true, members: { appendAWSWhitelist: 'function', setAWSWhitelist: 'function' } },
  },
  'patchers/promise_p.js': {
    name: 'promise_p',
    reason: 'capturePromise: the functions never patch Promise (the Tracer does not)',
    exports: {
      members: {
        capturePromise: { call: true, members: { patchThirdPartyPromise: 'function' } },
        uncapturePromise: 'function',
      },
    },
  },
  'database/sql_data.js': {
    name: 'SqlData',
    reason: 'SqlData: the functions make no SQL calls',
    exports: 'function',
  },
  'middleware/incoming_request_data.js': {
    name: 'IncomingRequestData',
    reason: 'IncomingRequestData of the HTTP server middleware: the functions serve no HTTP',
    exports: 'function',
  },
  'middleware/mw_utils.js': {
    name: 'middleware',
    reason:
      'the HTTP server middleware and its sampling (the samplers, rule and target pollers, service connector): the functions serve no HTTP, and in Lambda the facade segment carries the sampling decision',
    exports: {
      members: {
        defaultName: 'value',
        dynamicNaming: 'value',
        hostPattern: 'value',
        sampler: 'value',
        enableDynamicNaming: 'function',
        processHeaders: 'function',
        resolveName: 'function',
        resolveSampling: 'function',
        setDefaultName: 'function',
        // In Lambda, env/aws_lambda.js calls it at load; all it does is put the local sampler in `sampler`,
        // which only `resolveSampling` and `setSamplingRules` read (both throw here).
        disableCentralizedSampling: 'no-op',
        setSamplingRules: 'function',
        middlewareLog: 'function',
        traceRequestResponseCycle: 'function',
      },
    },
  },
  'segments/plugins/ec2_plugin.js': {
    name: 'EC2Plugin',
    reason: 'the EC2 plugin: the functions run in Lambda',
    exports: PLUGIN,
  },
  'segments/plugins/ecs_plugin.js': {
    name: 'ECSPlugin',
    reason: 'the ECS plugin: the functions run in Lambda',
    exports: PLUGIN,
  },
  'segments/plugins/elastic_beanstalk_plugin.js': {
    name: 'ElasticBeanstalkPlugin',
    reason: 'the Elastic Beanstalk plugin: the functions run in Lambda',
    exports: PLUGIN,
  },
};

/** Where the trimmed copy is written, under the project's `node_modules/.cache`. */
export const TRIMMED_XRAY_DIR = join('node_modules', '.cache', 'lambda-xray-sdk-core');

const ERROR_MODULE = 'not-bundled.js';

/**
 * cls-hooked's namespace on `AsyncLocalStorage` (lib/runtime/cls-namespace.ts says why), for the one module of
 * cls-hooked the SDK requires (`context_utils.js`); with it go `emitter-listener` and `shimmer`, which only
 * cls-hooked requires.
 */
export const CLS_NAMESPACE_MODULE = './lib/runtime/cls-namespace.ts';

/**
 * Writes the trimmed copy of aws-xray-sdk-core under `projectRoot` and returns the esbuild aliases to it
 * and to cls-hooked's namespace (`CLS_NAMESPACE_MODULE`). Files are rewritten only when their text changed. Fails the build, naming the
 * file, when the installed package no longer has a module listed in `XRAY_STAND_INS` (a new version moved
 * it: the list needs a look) or has a `node_modules` of its own (the copy would resolve its dependencies
 * elsewhere).
 */
export function trimmedXraySdkAliases(projectRoot: string): Record<string, string> {
  const packageDir = dirname(
    createRequire(join(projectRoot, 'package.json')).resolve('aws-xray-sdk-core/package.json'),
  );
  const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
    name: string;
    version: string;
  };
  const where = `aws-xray-sdk-core ${pkg.version} (${relative(projectRoot, packageDir)})`;
  if (existsSync(join(packageDir, 'node_modules')))
    throw new Error(`${where} has a node_modules of its own: the trimmed copy would not resolve it`);
  const source = join(packageDir, 'dist', 'lib');
  for (const path of Object.keys(XRAY_STAND_INS))
    if (!existsSync(join(source, path)))
      throw new Error(
        `${where} has no dist/lib/${path}: update XRAY_STAND_INS in infra/constructs/xray-sdk-trim.ts`,
      );

  const copy = join(projectRoot, TRIMMED_XRAY_DIR);
  const lib = join(copy, 'dist', 'lib');
  // Only what aws-xray.js reads of its package.json (the SDK's name and version in every segment).
  const main = 'dist/lib/index.js';
  writeIfChanged(
    join(copy, 'package.json'),
    `${JSON.stringify({ name: pkg.name, version: pkg.version, main })}\n`,
  );
  writeIfChanged(join(copy, ERROR_MODULE), ERROR_MODULE_TEXT);
  for (const path of moduleFiles(source)) {
    const target = join(lib, path);
    const standIn = XRAY_STAND_INS[path];
    writeIfChanged(
      target,
      standIn
        ? standInText(`aws-xray-sdk-core/dist/lib/${path}`, standIn, target, copy)
        : readFileSync(join(source, path)),
    );
  }
  return { 'aws-xray-sdk-core': `./${TRIMMED_XRAY_DIR}`, 'cls-hooked/context': CLS_NAMESPACE_MODULE };
}

/** The package's JavaScript and JSON under `dist/lib`, relative to it (not its type declarations). */
function moduleFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) return moduleFiles(join(dir, entry.name), path);
    return /\.(js|json)$/.test(entry.name) ? [path] : [];
  });
}

/** The one error every stand-in throws, in the copy (CommonJS, as the package). */
const ERROR_MODULE_TEXT = `"use strict";
// Generated by infra/constructs/xray-sdk-trim.ts: the Lambda bundles' stand-ins for the parts of
// aws-xray-sdk-core they leave out, built from the shape of what each module exports.
class XraySdkNotBundledError extends Error {
  constructor(member, module) {
    super(member + " (" + module + ") is not in this Lambda bundle; infra/constructs/xray-sdk-trim.ts says why");
    this.name = "XraySdkNotBundledError";
    this.member = member;
  }
}
function thrower(module, member) {
  return function notBundled() {
    throw new XraySdkNotBundledError(member, module);
  };
}
function standIn(module, member, shape) {
  if (shape === "function") return thrower(module, member);
  if (shape === "no-op") return function noOp() {};
  const target = shape.call ? thrower(module, member) : {};
  for (const [name, inner] of Object.entries(shape.members)) {
    if (inner === "value")
      Object.defineProperty(target, name, { enumerable: true, get: thrower(module, member + "." + name) });
    else target[name] = inner === true ? true : standIn(module, member + "." + name, inner);
  }
  return target;
}
module.exports = { XraySdkNotBundledError, standIn };
`;

/** The stand-in module for `module` (a package, or a path in aws-xray-sdk-core's `dist/lib`). */
function standInText(module: string, standIn: StandIn, file: string, copy: string): string {
  let errors = relative(dirname(file), join(copy, ERROR_MODULE));
  if (!errors.startsWith('.')) errors = `./${errors}`;
  return [
    '"use strict";',
    `// Generated by infra/constructs/xray-sdk-trim.ts: a stand-in for ${module}, left out of the Lambda bundles.`,
    `// Left out: ${standIn.reason}.`,
    `const { standIn } = require(${JSON.stringify(errors)});`,
    `module.exports = standIn(${[module, standIn.name, standIn.exports].map((v) => JSON.stringify(v)).join(', ')});`,
    '',
  ].join('\n');
}
