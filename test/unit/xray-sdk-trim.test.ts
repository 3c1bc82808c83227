import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '#infra/constructs/engine-function.js';
import {
  CLS_NAMESPACE_MODULE,
  type StandInShape,
  TRIMMED_XRAY_DIR,
  trimmedXraySdkAliases,
  XRAY_STAND_INS,
} from '#infra/constructs/xray-sdk-trim.js';

const require = createRequire(import.meta.url);
const REAL_LIB = join(dirname(require.resolve('aws-xray-sdk-core/package.json')), 'dist', 'lib');
const COPY = join(PROJECT_ROOT, TRIMMED_XRAY_DIR);
const COPY_LIB = join(COPY, 'dist', 'lib');

/**
 * The own property names of what each module exports, one level deep into functions (a function's
 * statics: `capturePromise.patchThirdPartyPromise`) or, with `objects`, into objects as well (the API
 * object's `plugins`, `middleware`…). Read from property descriptors, so a stand-in's throwing getter is
 * listed, not called. Run in a fresh Node process per package: the real SDK creates its cls-hooked
 * namespace (an async hook) when it loads, which has no business in the test process.
 */
function exportedNames(modules: readonly string[], objects: boolean): Record<string, unknown> {
  const script = `
    const [modules, objects] = [JSON.parse(process.argv[1]), process.argv[2] === 'true'];
    const own = (x) => Object.getOwnPropertyNames(x)
      .filter((k) => !(typeof x === 'function' && ['length', 'name', 'prototype'].includes(k)))
      .sort();
    const names = (x) => Object.fromEntries(own(x).map((k) => {
      const { value } = Object.getOwnPropertyDescriptor(x, k);
      const deeper = typeof value === 'function' || (objects && typeof value === 'object' && value !== null);
      return [k, deeper ? own(value) : null];
    }));
    const out = {};
    for (const path of modules) out[path] = { self: typeof require(path), names: names(require(path)) };
    console.log(JSON.stringify(out));
  `;
  const run = spawnSync(process.execPath, ['-e', script, JSON.stringify(modules), String(objects)], {
    env: { PATH: process.env.PATH },
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(run.stderr).toBe('');
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

/** Calls, constructs or reads each member of `shape` in `value`, collecting what each did. */
function exercise(value: unknown, shape: StandInShape, member: string): [string, string][] {
  const outcome = (act: () => unknown): string => {
    try {
      const result = act();
      return `returned ${String(result)}`;
    } catch (error) {
      return `${(error as Error).name}: ${(error as Error).message}`;
    }
  };
  if (shape === 'function')
    return [
      [`${member}()`, outcome(() => (value as () => unknown)())],
      [`new ${member}()`, outcome(() => new (value as new () => unknown)())],
    ];
  if (shape === 'no-op') return [[`${member}()`, outcome(() => (value as () => unknown)())]];
  if (shape === true || shape === 'value') return [];
  const results: [string, string][] = shape.call ? exercise(value, 'function', member) : [];
  for (const [key, inner] of Object.entries(shape.members)) {
    if (inner === 'value')
      results.push([`${member}.${key}`, outcome(() => (value as Record<string, unknown>)[key])]);
    else if (inner === true)
      results.push([`${member}.${key}`, `is ${String((value as Record<string, unknown>)[key])}`]);
    else results.push(...exercise((value as Record<string, unknown>)[key], inner, `${member}.${key}`));
  }
  return results;
}

describe('aws-xray-sdk-core trimmed for the Lambda bundles', () => {
  const aliases = trimmedXraySdkAliases(PROJECT_ROOT);

  it("aliases the package to the copy and cls-hooked's namespace to ours", () => {
    expect(aliases).toEqual({
      'aws-xray-sdk-core': `./${TRIMMED_XRAY_DIR}`,
      'cls-hooked/context': './lib/runtime/cls-namespace.ts',
    });
    expect(CLS_NAMESPACE_MODULE).toBe('./lib/runtime/cls-namespace.ts');
  });

  it('has every stand-in throw XraySdkNotBundledError, naming the member and its module, when called or read', () => {
    const standIns = Object.entries(XRAY_STAND_INS).map(
      ([path, s]) => [join(COPY_LIB, path), `aws-xray-sdk-core/dist/lib/${path}`, s] as const,
    );
    for (const [file, module, standIn] of standIns) {
      const results = exercise(require(file), standIn.exports, standIn.name);
      expect(results.length).toBeGreaterThan(0);
      for (const [member, outcome] of results) {
        if (member === 'middleware.disableCentralizedSampling()') {
          // The one no-op: in Lambda it only stores the sampler that the (left out) HTTP middleware reads.
          expect(outcome).toBe('returned undefined');
          continue;
        }
        if (member === 'aws3_p.__esModule') continue;
        const name = member.replace(/^new /, '').replace(/\(\)$/, '');
        expect(outcome, member).toBe(
          `XraySdkNotBundledError: ${name} (${module}) is not in this Lambda bundle; infra/constructs/xray-sdk-trim.ts says why`,
        );
      }
    }
    const { XraySdkNotBundledError } = require(join(COPY, 'not-bundled.js')) as {
      XraySdkNotBundledError: new (m: string, p: string) => Error & { member: string };
    };
    const error = (() => {
      try {
        (
          require(join(COPY_LIB, 'patchers/aws3_p.js')) as { captureAWSClient: () => void }
        ).captureAWSClient();
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(XraySdkNotBundledError);
    expect(error).toMatchObject({ name: 'XraySdkNotBundledError', member: 'aws3_p.captureAWSClient' });
  });

  it('gives each stand-in the exports of the module it replaces', () => {
    const paths = Object.keys(XRAY_STAND_INS);
    const real = exportedNames(
      paths.map((p) => join(REAL_LIB, p)),
      false,
    );
    const trimmed = exportedNames(
      paths.map((p) => join(COPY_LIB, p)),
      false,
    );
    expect(Object.values(trimmed)).toEqual(Object.values(real));
  });

  it('exposes every key the real aws-xray-sdk-core exports, with the same members one level down', () => {
    const [real, trimmed] = [join(REAL_LIB, 'index.js'), join(COPY_LIB, 'index.js')].map(
      (index) => exportedNames([index], true)[index],
    );
    expect(trimmed).toEqual(real);
    // …and the ones left out are the stand-ins: called, they throw.
    expect((real as { names: Record<string, unknown> }).names).toHaveProperty('captureAWSv3Client');
    expect(() =>
      (require(join(COPY_LIB, 'patchers/aws3_p.js')) as { captureAWSClient: () => void }).captureAWSClient(),
    ).toThrow(/captureAWSClient .* is not in this Lambda bundle/);
  });

  it('is not what the functions call: no code of theirs names a member the trim leaves out', () => {
    // What reaches a left-out module: the Tracer's SDK client captures and the SDK's own API for them.
    const leftOut =
      /\b(captureAWS|captureAWSClient|captureAWSv3Client|capturePromise|uncapturePromise|setAWSWhitelist|appendAWSWhitelist|SqlData|IncomingRequestData|EC2Plugin|ECSPlugin|ElasticBeanstalkPlugin|enableDynamicNaming|traceRequestResponseCycle|setSamplingRules|bindEmitter)\b/;
    // cls-hooked's namespace in the bundles defines `bindEmitter` as a stand-in of its own (it throws).
    const files = ['lib', 'functions'].flatMap((dir) =>
      readdirSync(join(PROJECT_ROOT, dir), { recursive: true, encoding: 'utf8' })
        .filter((file) => file.endsWith('.ts'))
        .map((file) => join(dir, file))
        .filter((file) => file !== join('lib', 'runtime', 'cls-namespace.ts')),
    );
    expect(files.length).toBeGreaterThan(50);
    const code = (file: string) =>
      readFileSync(join(PROJECT_ROOT, file), 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/^\s*\/\/.*$/gm, '');
    expect(files.filter((file) => leftOut.test(code(file)))).toEqual([]);
    // The pattern finds such a call where there is one.
    expect(leftOut.test('tracer.captureAWSv3Client(new S3Client({}))')).toBe(true);
  });
});
