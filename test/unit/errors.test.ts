import { describe, expect, it } from 'vitest';
import { parseFlags, UsageError } from '#lib/cli/args.js';
import { ConfigError, loadConfig } from '#lib/config.js';
import { PublishError, RefResolutionError, RetryableError } from '#lib/engine/errors.js';
import { parseRuleSet, RuleSetError } from '#lib/rules/ruleset-loader.js';

const ENV = { SIGNALS_TABLE_NAME: 's', STATE_TABLE_NAME: 't', AUDIT_TABLE_NAME: 'a', EVENT_BUS_NAME: 'b' };

describe('named errors', () => {
  it('carry the error they wrap as `cause`', () => {
    const root = new Error('socket hang up');
    expect(new RetryableError('retry', { cause: root }).cause).toBe(root);
    expect(new PublishError('failed', [], [], false, { cause: root }).cause).toBe(root);
    expect(new RefResolutionError('ref', 'covariance_ref', true, { cause: root }).cause).toBe(root);
    expect(new RuleSetError(['x'], { cause: root }).cause).toBe(root);
  });

  it('keep the parser error behind a rule-set syntax error and a wrong flag', () => {
    const ruleSet = (() => {
      try {
        parseRuleSet('world: [', 'bad.yaml');
      } catch (error) {
        return error;
      }
    })();
    expect(ruleSet).toBeInstanceOf(RuleSetError);
    expect((ruleSet as Error).cause).toBeInstanceOf(Error);
    const usage = (() => {
      try {
        parseFlags(['--nope'], {});
      } catch (error) {
        return error;
      }
    })();
    expect(usage).toBeInstanceOf(UsageError);
    expect((usage as Error).cause).toBeInstanceOf(TypeError);
  });
});

describe('loadConfig', () => {
  it('reads whether DynamoDB has transactions through the schema (default true)', () => {
    expect(loadConfig(ENV).EXIT_ENGINE_DYNAMODB_TRANSACTIONS).toBe(true);
    expect(
      loadConfig({ ...ENV, EXIT_ENGINE_DYNAMODB_TRANSACTIONS: 'false' }).EXIT_ENGINE_DYNAMODB_TRANSACTIONS,
    ).toBe(false);
    expect(() => loadConfig({ ...ENV, EXIT_ENGINE_DYNAMODB_TRANSACTIONS: 'no' })).toThrow(
      /EXIT_ENGINE_DYNAMODB_TRANSACTIONS: must be 'true' or 'false'/,
    );
    expect(() => loadConfig({ ...ENV, EXIT_ENGINE_DYNAMODB_TRANSACTIONS: 'no' })).toThrow(ConfigError);
  });
});
