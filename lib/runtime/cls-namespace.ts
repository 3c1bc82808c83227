import type { AsyncLocalStorage as Storage } from 'node:async_hooks';

// Taken from Node directly rather than imported: the built-in's shim (infra/constructs/node-builtin-shims.ts) is
// also imported dynamically (by @aws/lambda-invoke-store), and a module imported both ways would put the shim
// in a chunk of its own, one more file for the Tracer's chunk to load at init.
const { AsyncLocalStorage } = process.getBuiltinModule('node:async_hooks');

/**
 * `cls-hooked/context` for aws-xray-sdk-core in the Lambda bundles, on Node's `AsyncLocalStorage`
 * (infra/constructs/xray-sdk-trim.ts aliases it; issue 12 item 5). The SDK keeps the current X-Ray segment in
 * a cls-hooked namespace: cls-hooked registers an async hook with `init`, `before`, `after` and `destroy`
 * callbacks in JavaScript, so where tracing is on every promise of every invocation paid four calls and a
 * `Map` entry, and its module, `emitter-listener` and `shimmer` loaded at init. `AsyncLocalStorage` carries the
 * same context with one store per asynchronous resource.
 *
 * The semantics are cls-hooked's as the SDK and the Powertools Tracer use them:
 * - `run(fn)` runs `fn` in a new context that inherits (prototype chain) the active one; the contexts of
 *   asynchronous work started inside follow it, and it is left when `fn` returns or throws;
 * - `enter(context)` outside any `run` makes `context` the process-wide one: the SDK does that once at load in
 *   Lambda (`env/aws_lambda.js`, the facade segment's context), and cls-hooked keeps such a context active for
 *   callbacks whose resource carried none, as the Lambda runtime's own invocation loop (started before the
 *   handler's module loaded) is; inside a `run` it enters for the rest of the current execution (`enter` and
 *   `exit` pair up in synchronous nesting, the only way the SDK calls them);
 * - `set` without an active context throws cls-hooked's error; `get` returns `undefined`;
 * - an error thrown out of `run` carries its context under `ERROR_SYMBOL`.
 * test/unit/cls-namespace.test.ts runs the same scenarios against cls-hooked itself.
 */

type Context = Record<string, unknown>;

export const ERROR_SYMBOL = 'error@context';

export class Namespace {
  readonly name: string;
  /** cls-hooked's field: the id it was created under (never 0, so `destroyNamespace` accepts it). */
  readonly id = -1;
  private readonly storage: Storage<Context> = new AsyncLocalStorage<Context>();
  /** What `enter` outside any `run` made active, for everything that carries no context of its own. */
  private base: Context | null = null;
  private readonly entered: (Context | null)[] = [];

  constructor(name: string) {
    this.name = name;
  }

  get active(): Context | null {
    return this.storage.getStore() ?? this.base;
  }

  set<T>(key: string, value: T): T {
    const active = this.active;
    if (!active) throw new Error('No context available. ns.run() or ns.bind() must be called first.');
    active[key] = value;
    return value;
  }

  get(key: string): unknown {
    return this.active?.[key];
  }

  createContext(): Context {
    const context = Object.create(this.active ?? Object.prototype) as Context;
    context._ns_name = this.name;
    return context;
  }

  run(fn: (context: Context) => void): Context {
    const context = this.createContext();
    this.within(context, () => fn(context));
    return context;
  }

  runAndReturn<T>(fn: (context: Context) => T): T {
    const context = this.createContext();
    return this.within(context, () => fn(context));
  }

  runPromise<T>(fn: (context: Context) => Promise<T>): Promise<T> {
    const context = this.createContext();
    return this.within(context, () => {
      const promise = fn(context);
      if (!promise || typeof promise.then !== 'function' || typeof promise.catch !== 'function')
        throw new Error('fn must return a promise.');
      return promise.catch((error: unknown) => {
        annotate(error, context);
        throw error;
      });
    });
  }

  bind<F extends (...args: never[]) => unknown>(fn: F, context?: Context): F {
    const bound = context ?? this.active ?? this.createContext();
    const namespace = this;
    return function clsBind(this: unknown, ...args: Parameters<F>) {
      return namespace.within(bound, () => fn.apply(this, args));
    } as F;
  }

  enter(context: Context): void {
    if (!context) throw new Error('context must be provided for entering');
    this.entered.push(this.active);
    if (this.storage.getStore() === undefined) this.base = context;
    else this.storage.enterWith(context);
  }

  exit(context: Context): void {
    if (!context) throw new Error('context must be provided for exiting');
    if (this.active !== context) throw new Error("context not currently entered; can't exit");
    const previous = this.entered.pop() ?? null;
    if (this.storage.getStore() === undefined) this.base = previous;
    else this.storage.enterWith(previous as Context);
  }

  /** cls-hooked binds an emitter's listeners to contexts; neither the SDK nor the Tracer calls it. */
  bindEmitter(): never {
    throw new Error('bindEmitter is not in the Lambda bundles (lib/runtime/cls-namespace.ts)');
  }

  fromException(error: unknown): Context | undefined {
    return (error as Record<string, Context> | null)?.[ERROR_SYMBOL];
  }

  private within<T>(context: Context, fn: () => T): T {
    try {
      return this.storage.run(context, fn);
    } catch (error) {
      annotate(error, context);
      throw error;
    }
  }
}

function annotate(error: unknown, context: Context): void {
  if (error && (typeof error === 'object' || typeof error === 'function'))
    (error as Record<string, unknown>)[ERROR_SYMBOL] = context;
}

const namespaces = new Map<string, Namespace>();

export function getNamespace(name: string): Namespace | undefined {
  return namespaces.get(name);
}

export function createNamespace(name: string): Namespace {
  if (!name) throw new Error('namespace must be given a name.');
  const namespace = new Namespace(name);
  namespaces.set(name, namespace);
  return namespace;
}

export function destroyNamespace(name: string): void {
  if (!namespaces.delete(name)) throw new Error(`can't delete nonexistent namespace! "${name}"`);
}

export function reset(): void {
  namespaces.clear();
}
