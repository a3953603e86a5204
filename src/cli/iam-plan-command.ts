import { Option, type Command } from 'commander';
import { CliError, usage, type CliContext } from './context';

// Loaded when the command runs: the plan pulls in the config schema and the IAM action data (about 0.2 s), which
// no other command, credential_process above all, should pay for at every start.
const planModules = async () => ({
  ...(await import('../config')),
  ...(await import('../iam-plan/cloudformation')),
  ...(await import('../iam-plan/iam-plan')),
  ...(await import('../templates/load-templates')),
});
type PlanModules = Awaited<ReturnType<typeof planModules>>;

interface IamPlanOptions {
  config?: string;
  servicePrincipal: string;
  format: 'json' | 'cloudformation';
}

/** A setup the service would refuse to start with is refused here too, with the same problem list. */
function setupError(m: PlanModules, err: unknown): never {
  const { ConfigError, IamPlanError, TemplateLoadError } = m;
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
    .requiredOption('--service-principal <arn>', 'ARN of the IAM role or user the service runs as')
    .addOption(new Option('--format <format>', 'output format').choices(['json', 'cloudformation']).default('json'))
    .action(async (opts: IamPlanOptions) => {
      const m = await planModules();
      const { loadConfig, loadTemplates, iamPlan, toCloudFormation } = m;
      const problem = m.principalProblem(opts.servicePrincipal);
      if (problem) throw usage(`option '--service-principal <arn>' argument '${opts.servicePrincipal}' is invalid. ${problem}`);
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
        setupError(m, err);
      }
      ctx.out(`${text}\n`);
      for (const note of notes) ctx.err(`sts-vend: note: ${note}\n`);
    });
}
