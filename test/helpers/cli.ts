/**
 * Running the `sts-vend` CLI from source as a child process (through tsx, so tests need no build), and a
 * listening copy of the test stack's app for it to call.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Express } from 'express';

export const REPO_ROOT = path.resolve(__dirname, '../..');
const CLI_MAIN = path.join(REPO_ROOT, 'src/cli/main.ts');
const TSX_LOADER = pathToFileURL(require.resolve('tsx')).href;

/** The argv that runs the CLI; join with spaces for a shell (no path here contains one). */
export const CLI_ARGV = [process.execPath, '--import', TSX_LOADER, CLI_MAIN];

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts the CLI with only the given environment (plus PATH), cwd at the repo root so `node -e` finds packages. */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(CLI_ARGV[0]!, [...CLI_ARGV.slice(1), ...args], { cwd: REPO_ROOT, env: { PATH: process.env.PATH, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Collects a child's output until it exits. */
export function finished(child: ChildProcess): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

export const runCli = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> => {
  const child = spawnCli(args, env);
  child.stdin?.end();
  return finished(child);
};

/** Resolves with the child's stdout so far once `text` has appeared in it. */
export function waitForOutput(child: ChildProcess, text: string): Promise<string> {
  let seen = '';
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (c: Buffer) => {
      seen += c.toString();
      if (seen.includes(text)) resolve(seen);
    });
    child.on('close', () => reject(new Error(`exited before printing ${text}; printed: ${seen}`)));
  });
}

/** Listens on a free loopback port (the CLI and SDK providers need a real URL). */
export async function listen(app: Express): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
