import { InvalidArgumentError, Option, type Command } from 'commander';
import { ConfigError, loadConfig } from '../config';
import { toCloudFormation } from '../iam-plan/cloudformation';
import { IamPlanError, iamPlan, principalProblem } from '../iam-plan/iam-plan';
import { loadTemplates, TemplateLoadError } from '../templates/load-templates';
import { CliError, type CliContext } from './context';

interface IamPlanOptions {
  config?: string;
  servicePrincipal: string;
  format: 'json' | 'cloudformation';
}

function principal(value: string): string {
  const problem = principalProblem(value);
  if (problem) throw new InvalidArgumentError(problem);
  return value;
}

/** A setup the service would refuse to start with is refused here too, with the same problem list. */
function setupError(err: unknown): never {
  if (err instanceof ConfigError || err instanceof TemplateLoadError || err instanceof IamPlanError) {
    const code = err instanceof IamPlanError ? 'iam_plan' : err instanceof ConfigError ? 'invalid_config' : 'invalid_templates';
    throw new CliError(code, `\n  - ${err.problems.join('\n  - ')}`);
  }
  throw err;
}

/**
 * `sts-vend iam-plan`: the IAM the deployment needs (the service's policy, each target role's trust and ceiling),
 * from the config and templates the service would load, as JSON or a CloudFormation template. Offline: no AWS call.
 */
export function registerIamPlan(cmd: Command, ctx: CliContext): void {
  cmd
    .description('print the IAM the service needs: its own policy and each target role (trust policy, permission ceiling)')
    .option('--config <file>', 'config file (default $STS_VEND_CONFIG, else ./sts-vend.yaml)')
    .requiredOption('--service-principal <arn>', 'ARN of the IAM role or user the service runs as', principal)
    .addOption(new Option('--format <format>', 'output format').choices(['json', 'cloudformation']).default('json'))
    .action(async (opts: IamPlanOptions) => {
      const env = { ...ctx.env, ...(opts.config ? { STS_VEND_CONFIG: opts.config } : {}) };
      let text: string;
      let notes: string[];
      try {
        const config = loadConfig(env);
        // The same options buildDeps passes, so the plan covers exactly the templates the service would serve.
        const templates = await loadTemplates(config.templatesDir, {
          issuers: config.issuers.map((i) => i.name),
          maxDurationSeconds: config.sessions.maxDurationSeconds,
        });
        const plan = iamPlan(config, templates, { servicePrincipalArn: opts.servicePrincipal });
        notes = plan.notes;
        text = JSON.stringify(opts.format === 'cloudformation' ? toCloudFormation(plan) : plan, null, 2);
      } catch (err) {
        setupError(err);
      }
      ctx.out(`${text}\n`);
      for (const note of notes) ctx.err(`sts-vend: note: ${note}\n`);
    });
}
