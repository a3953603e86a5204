import type { Command } from 'commander';
import type { CliContext } from './context';

/**
 * `sts-vend check [--config FILE]`: validates the config and every template offline, as the service does at
 * start (no Redis, no AWS), so a policy repository can lint its templates in its own CI. Exit 0 or 1.
 */
export function registerCheck(cmd: Command, ctx: CliContext): void {
  cmd
    .description('validate the configuration and templates offline')
    .option('--config <file>', 'config file (default $STS_VEND_CONFIG, else ./sts-vend.yaml)')
    .action(async (opts: { config?: string }) => {
      // Loaded when the command runs (the config schema and templates cost every other command 0.2 s at start).
      const { checkConfig, formatCheckResult } = await import('../check');
      const result = await checkConfig({ configFile: opts.config, env: ctx.env });
      (result.ok ? ctx.out : ctx.err)(formatCheckResult(result));
      ctx.exitCode = result.ok ? 0 : 1;
    });
}
