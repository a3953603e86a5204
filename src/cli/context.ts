/** What every command gets: where to write, the environment, and a place to leave the process exit code. */
export interface CliContext {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
  /** 0 unless a command sets it (exec passes its child's code through). */
  exitCode: number;
}

/**
 * A failure the CLI itself detects. `usage` errors exit 2, everything else 1 (as service errors do).
 * The message is printed as `sts-vend: <code>: <message>`, so it must never include a token or secret.
 */
export class CliError extends Error {
  readonly code: string;
  readonly exitCode: number;

  constructor(code: string, message: string, exitCode = code === 'usage' ? 2 : 1) {
    super(message);
    this.name = 'CliError';
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** A usage error (exit 2). */
export const usage = (message: string): CliError => new CliError('usage', message);
