import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { EngineFunction, PROJECT_ROOT } from '#infra/constructs/engine-function.js';
import { buildLambdaBundle, ESM_REQUIRE_BANNER } from '#infra/constructs/lambda-bundling.js';
import { COMPILED_RULESETS_FILE, readCompiledRuleSets } from '#lib/rules/compiled-rule-sets.js';
import { loadRuleSetDirectory } from '#lib/rules/ruleset-loader.js';

// The one test that really runs esbuild (locally, no Docker), to prove the bundle is what we ship.
describe('EngineFunction bundle', () => {
  it('is a minified ESM module with the createRequire banner, lazy chunks, the compiled rule sets beside it, and starts', () => {
    const app = new App();
    const stack = new Stack(app, 'BundleProbe');
    new EngineFunction(stack, 'Probe', {
      entry: 'functions/evaluate-snapshot.ts',
      description: 'bundle probe',
    });
    const assembly = app.synth();

    const assetDirs = readdirSync(assembly.directory).filter((name) => name.startsWith('asset.'));
    expect(assetDirs).toHaveLength(1);
    const dir = join(assembly.directory, assetDirs[0] as string);
    expect(existsSync(join(dir, 'index.js'))).toBe(false);
    const code = readFileSync(join(dir, 'index.mjs'), 'utf8');
    expect(code.startsWith(ESM_REQUIRE_BANNER)).toBe(true);
    expect(ESM_REQUIRE_BANNER).toContain("process.getBuiltinModule('node:module').createRequire(");
    expect(code).toMatch(/export\s*\{/);
    expect(code).not.toMatch(/module\.exports\s*=/);
    expect(existsSync(join(dir, 'index.mjs.map'))).toBe(true);
    // The rule sets beside it, compiled: every bundled world, as the YAML loader reads them.
    const compiled = readCompiledRuleSets(join(dir, COMPILED_RULESETS_FILE)).all();
    expect(compiled).toEqual(loadRuleSetDirectory(join(PROJECT_ROOT, 'rulesets')).all());
    // No SDK client is built at init (the stores sign their calls with the environment's credentials), so
    // no credential chain is loaded then; where an SDK client is built lazily, its default chain is swapped
    // for the environment (lambda-credentials.ts; checked in every chunk below)…
    const loadedAtInit = staticallyImported(dir, 'index.mjs');
    const initCode = loadedAtInit.map((file) => readFileSync(join(dir, file), 'utf8')).join('\n');
    expect(initCode.includes('Could not load credentials from any providers')).toBe(false);
    expect(initCode.includes('the Lambda bundle reads credentials only from the environment')).toBe(false);
    // …the Tracer's X-Ray capture and the YAML parser (for published rule sets) are chunks of their own,
    // loaded only where needed, and no file has legal comments.
    const chunks = readdirSync(join(dir, 'chunks'))
      .filter((name) => name.endsWith('.mjs'))
      .map((name) => readFileSync(join(dir, 'chunks', name), 'utf8'));
    // (aws-xray-sdk-core's Lambda mode, env/aws_lambda.js, marks it; its SDK v3 patcher, left out, is in none.)
    const xrayLambdaMode = 'Disabling centralized sampling in Lambda environment';
    expect(code.includes(xrayLambdaMode)).toBe(false);
    expect(chunks.filter((chunk) => chunk.includes(xrayLambdaMode))).toHaveLength(1);
    for (const file of [code, ...chunks]) expect(file.includes('XRaySDKInstrumentation')).toBe(false);
    expect(code.includes('YAMLException')).toBe(false);
    expect(chunks.filter((chunk) => chunk.includes('YAMLException'))).toHaveLength(1);
    for (const file of [code, ...chunks]) expect(/\/\*!|@license/.test(file)).toBe(false);
    // No arrow function: V8 fully parses what is nested in an arrow when it compiles the arrow, so the
    // CommonJS module wrappers and zod's initializers are `function` expressions (LAMBDA_ESBUILD.supported).
    for (const file of [code, ...chunks]) expect(file.includes('=>')).toBe(false);
    for (const file of chunks)
      expect(file.includes('Could not load credentials from any providers')).toBe(false);
    // semver, which only aws-xray-sdk-core's SDK v2 patcher requires, is left out with it (infra/constructs/xray-sdk-trim.ts).
    for (const file of [code, ...chunks]) expect(file.includes('Invalid Version')).toBe(false);
    // The maps name sources relative to the project (what lib/source-mapped-stack.ts prints), not by the
    // build machine's layout.
    const { sources } = JSON.parse(readFileSync(join(dir, 'index.mjs.map'), 'utf8')) as { sources: string[] };
    expect(sources).toContain('functions/evaluate-snapshot.ts');
    expect(sources.filter((source) => source.startsWith('../') || source.startsWith('/'))).toEqual([]);
    // The snapshot function builds only its own edge schema: the market and market re-evaluation
    // contracts, and the outbound events' schemas it never validates against (zod builds a schema when
    // its module loads), are in none of its files (lib/app/edge.ts, lib/contracts/exit-signal-ids.ts).
    const allSources = readdirSync(join(dir, 'chunks'))
      .filter((name) => name.endsWith('.map'))
      .flatMap(
        (name) =>
          (JSON.parse(readFileSync(join(dir, 'chunks', name), 'utf8')) as { sources: string[] }).sources,
      )
      .concat(sources);
    expect(allSources).toContain('lib/contracts/risk-snapshot.ts');
    expect(allSources).not.toContain('lib/contracts/market-snapshot.ts');
    expect(allSources).not.toContain('lib/contracts/market-reevaluation.ts');
    expect(allSources).not.toContain('lib/contracts/exit-signal.ts');
    // PutEvents goes over aws-json (lib/adapters/eventbridge/put-events.ts), built at cold start: no file holds
    // the EventBridge SDK client (every function: the test below).
    expect(initCode.includes('AWSEvents')).toBe(true);
    expect(allSources.filter((source) => source.includes('@aws-sdk/client-eventbridge'))).toEqual([]);
    // A live rule set is parsed by a lazily loaded chunk (the YAML parser and lib/rules/rule-schema.ts),
    // written in zod/mini: no file holds classic zod or zod's JSON Schema generator, which classic zod's
    // schemas kept in the files a cold start loads (esbuild assigns a file to chunks by reachability).
    const initSources = loadedAtInit.flatMap(
      (file) => (JSON.parse(readFileSync(join(dir, `${file}.map`), 'utf8')) as { sources: string[] }).sources,
    );
    expect(initSources).toContain('lib/rulesets/live-rule-sets.ts');
    expect(initSources).not.toContain('lib/rules/rule-schema.ts');
    expect(allSources).toContain('lib/rules/rule-schema.ts');
    expect(initCode.includes('must list at least one rule')).toBe(false);
    expect(chunks.filter((chunk) => chunk.includes('must list at least one rule'))).toHaveLength(1);
    // …and the YAML parser is a chunk apart from the schema's: a revision published with its document as
    // JSON is validated without it (lib/rules/rule-document.ts).
    expect(
      chunks.filter(
        (chunk) => chunk.includes('YAMLException') && chunk.includes('must list at least one rule'),
      ),
    ).toEqual([]);
    expect(allSources.filter((source) => source.includes('node_modules/zod/v4/classic/'))).toEqual([]);
    expect(allSources.filter((source) => /node_modules\/zod\/v4\/core\/.*json-schema/.test(source))).toEqual(
      [],
    );
    // The date-time is the only ISO schema the functions build: reading the z.iso namespace kept the ISO
    // date, time and duration schemas in the files a cold start loads too (lib/contracts/zod-shared.ts).
    expect(initCode.includes('"ZodMiniISODateTime"')).toBe(true);
    for (const unused of ['"ZodMiniISODate"', '"ZodMiniISOTime"', '"ZodMiniISODuration"'])
      expect(initCode.includes(unused)).toBe(false);
    // The stores' DynamoDB client is our own over aws-json (lib/adapters/dynamodb/client): no file a cold
    // start loads holds the SDK's DynamoDB client, lib-dynamodb, its codec, endpoint discovery or the SDK's
    // Node HTTP handler, no lazy chunk the SDK's DynamoDB client or lib-dynamodb; the document client and
    // its marshalling (our own, lib/adapters/dynamodb/client/attribute-values.ts) are loaded at init.
    expect(
      initSources.filter((source) =>
        /node_modules\/(@aws-sdk\/(client-dynamodb|lib-dynamodb|dynamodb-codec|endpoint-cache|middleware-endpoint-discovery)|@smithy\/node-http-handler|mnemonist)\//.test(
          source,
        ),
      ),
    ).toEqual([]);
    expect(
      allSources.filter((source) => /node_modules\/@aws-sdk\/(client-dynamodb|lib-dynamodb)\//.test(source)),
    ).toEqual([]);
    expect(initSources).toContain('lib/adapters/dynamodb/client/document-client.ts');
    expect(initSources).toContain('lib/adapters/dynamodb/client/attribute-values.ts');
    expect(initSources).toContain('lib/adapters/aws-signing.ts');

    // The bundle starts, quietly, as Lambda runs it (tracing on) and without tracing, and its init does not
    // load Node's web streams (middy's one `instanceof` reads them lazily: infra/constructs/node-builtin-shims.ts).
    const importAndCheck = [
      'await import(process.argv[1]);',
      "const streams = process.moduleLoadList.filter((m) => m.includes('internal/webstreams/readablestream'));",
      "if (streams.length > 0) console.log('loaded at init: ' + streams);",
    ].join('');
    for (const tracing of [{ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x' }, {}]) {
      const run = spawnSync(
        process.execPath,
        ['--input-type=module', '-e', importAndCheck, join(dir, 'index.mjs')],
        {
          env: {
            PATH: process.env.PATH,
            ...tracing,
            AWS_REGION: 'eu-west-1',
            AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
            AWS_SECRET_ACCESS_KEY: 'secret',
            AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
            SIGNALS_TABLE_NAME: 'signals',
            STATE_TABLE_NAME: 'state',
            AUDIT_TABLE_NAME: 'audit',
            EVENT_BUS_NAME: 'bus',
            RULESETS_PATH: join(dir, COMPILED_RULESETS_FILE),
          },
          encoding: 'utf8',
          timeout: 60_000,
        },
      );
      expect({ status: run.status, stderr: run.stderr, stdout: run.stdout }).toEqual({
        status: 0,
        stderr: '',
        stdout: '',
      });
    }
  });
});

describe('every Lambda bundle', () => {
  it('holds no EventBridge or DynamoDB SDK client, smithy signer or util-dynamodb, calls no global fetch, imports no built-in as an ES module', () => {
    const out = mkdtempSync(join(tmpdir(), 'eb-bundles-'));
    try {
      const functions = readdirSync(join(PROJECT_ROOT, 'functions')).filter((name) => name.endsWith('.ts'));
      expect(functions).toHaveLength(6);
      for (const name of functions) {
        const { inputs } = buildLambdaBundle(PROJECT_ROOT, join('functions', name), join(out, name));
        // Every AWS call goes over aws-json, signed by lib/adapters/aws-signing.ts, the stores' values
        // marshalled by lib/adapters/dynamodb/client/attribute-values.ts: none of the packages those
        // replaced is in any file of any function, lazy chunks included.
        expect([
          name,
          Object.keys(inputs).filter((input) =>
            /node_modules\/(@aws-sdk\/(client-eventbridge|client-dynamodb|lib-dynamodb|util-dynamodb)|@smithy\/signature-v4|@aws-crypto\/sha256-js)\//.test(
              input,
            ),
          ),
        ]).toEqual([name, []]);
        // No call of the global `fetch` either (refs and AWS calls go over node:http(s)): a process's
        // first `fetch` loads undici and compiles its WebAssembly parser, ~100 ms of CPU on a cold start.
        const files = readdirSync(join(out, name), { recursive: true, encoding: 'utf8' });
        const code = files
          .filter((file) => file.endsWith('.mjs'))
          .map((file) => readFileSync(join(out, name, file), 'utf8'));
        expect([name, code.flatMap((c) => c.match(/(?<![\w$.])fetch\(/g) ?? [])]).toEqual([name, []]);
        // No Node built-in imported as an ES module (static or dynamic): each goes through its shim
        // (infra/constructs/node-builtin-shims.ts), so Node builds no facade that reads every export.
        const esImports = code.flatMap((c) =>
          [...c.matchAll(/(?:\bfrom|\bimport\(?)\s*"([^".][^"]*)"/g)].map((m) => m[1] as string),
        );
        expect([name, esImports.filter((spec) => isBuiltin(spec))]).toEqual([name, []]);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

/** The bundle's files `entry` loads by static imports, itself included (paths relative to `dir`). */
function staticallyImported(dir: string, entry: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const code = readFileSync(join(dir, file), 'utf8');
    // `import{…}from"./x.mjs"` or `import"./x.mjs"`, never `import("./x.mjs")`.
    for (const [, spec] of code.matchAll(
      /import\s*(?:\{[^}]*\}\s*from|[\w$*\s]+from)?\s*"(\.\/[^"]+\.mjs)"/g,
    ))
      visit(join(dirname(file), spec as string));
  };
  visit(entry);
  return [...seen];
}
