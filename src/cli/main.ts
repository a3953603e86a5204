#!/usr/bin/env node
import { run } from './program';

// The process edge: real stdout/stderr/env; everything else is in run(), which tests drive directly.
run(process.argv.slice(2), {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  env: process.env,
  exitCode: 0,
}).then((code) => {
  process.exitCode = code;
});
