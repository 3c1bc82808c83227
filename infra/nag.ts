import type {
  App,
  IPolicyValidationContext,
  IPolicyValidationPlugin,
  PolicyValidationPluginReport,
} from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';

/**
 * The AwsSolutions pack as `cdk synth` runs it, with aws-cdk-lib's deprecation notices silenced while
 * (and only while) the pack validates. Its EventBusOpenAccess rule reads `CfnEventBusPolicy#principal`
 * to look for a bus open to `*`, and aws-cdk-lib prints "[WARNING] … #principal is deprecated" on that
 * read: a warning about cdk-nag's code, not ours, on every synth. Our constructs never touch a
 * deprecated API (test/infra/deprecation.test.ts synthesizes every option under JSII_DEPRECATED=fail),
 * and they are built before synthesis, outside this window, so nothing of ours is hidden.
 */
export class AwsSolutionsPlugin implements IPolicyValidationPlugin {
  private readonly pack: AwsSolutionsChecks;
  readonly name: string;
  readonly version?: string;
  readonly ruleIds?: string[];

  constructor(app: App) {
    this.pack = new AwsSolutionsChecks(app, { verbose: true });
    this.name = this.pack.name;
    this.version = this.pack.version;
    this.ruleIds = this.pack.ruleIds;
  }

  validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    const mode = process.env.JSII_DEPRECATED;
    process.env.JSII_DEPRECATED = 'quiet';
    try {
      return this.pack.validate(context);
    } finally {
      if (mode === undefined) delete process.env.JSII_DEPRECATED;
      else process.env.JSII_DEPRECATED = mode;
    }
  }
}
