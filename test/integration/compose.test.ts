/**
 * docker-compose.yml against the Dockerfile, the config schema, the templates, openapi.yaml and the emulator's
 * state file, without Docker. compose-dev.test.ts builds the image layout and runs what the dev profile runs.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseConfig, type Config } from '../../src/config';
import { loadLocalAwsState } from '../../src/dev/local-aws';
import { loadTemplates } from '../../src/templates/load-templates';
import ts from 'typescript';
import { argOf, copyOf, dockerIgnored, envOf, execForm, hostPathOf, imageOf, loadCompose, loadDockerfile, read, ROOT, type Service } from './compose-model';

const { doc, services } = loadCompose();
const stages = loadDockerfile();
// The production image (the last stage, what `docker build .` makes) and the dev profile's image.
const runtime = imageOf(stages);
const devImage = imageOf(stages, 'dev');
const service = (name: string): Service => services.get(name) ?? fail(`no service ${name}`);
const stsVendServices = [service('sts-vend'), service('sts-vend-dev')];
const imageEnv = envOf(runtime);
const exposed = runtime.filter((i) => i.op === 'EXPOSE').map((i) => Number(i.args));

/** The config a sts-vend service runs with: its mounted file, parsed with the overrides compose sets. */
function configOf(s: Service): Config {
  const target = imageEnv.STS_VEND_CONFIG!;
  const file = hostPathOf(s, target) ?? fail(`${s.name}: nothing mounted at ${target}`);
  return parseConfig(parseYaml(readFileSync(file, 'utf8')), s.env, path.posix.dirname(target));
}

describe('services and profiles', () => {
  it('runs redis and sts-vend by default, and the emulator, the dev issuers and a dev sts-vend in the dev profile', () => {
    expect(Object.fromEntries([...services.values()].map((s) => [s.name, s.profiles]))).toEqual({
      redis: [],
      'sts-vend': [],
      'local-aws': ['dev'],
      'dev-issuer': ['dev'],
      'dev-issuer-ci': ['dev'],
      'sts-vend-dev': ['dev'],
    });
  });

  it('persists Redis with the append-only file', () => {
    const redis = service('redis');
    expect(redis.image).toBe('redis:7');
    expect(redis.command.join(' ')).toContain('--appendonly yes');
    expect(strings(redis.raw.volumes)).toContain('redis-data:/data');
    expect(Object.keys(doc.volumes as object)).toContain('redis-data');
  });

  it('puts sts-vend on the image PATH: a link to the entry that npm run build leaves executable with its shebang', () => {
    const build = stages[0]!;
    expect(build.some((i) => i.op === 'RUN' && i.args.includes('npm run build'))).toBe(true);
    expect(JSON.parse(read('package.json')).scripts.postbuild).toContain("chmodSync('dist/cli/main.js', 0o755)");
    expect(read('src/cli/main.ts').split('\n')[0]).toBe('#!/usr/bin/env node');
    const link = runtime.find((i) => i.op === 'RUN' && i.args.includes('/usr/local/bin/sts-vend'));
    expect(link?.args).toBe('ln -s /app/dist/cli/main.js /usr/local/bin/sts-vend');
    const userAt = runtime.findIndex((i) => i.op === 'USER');
    expect(runtime.indexOf(link!)).toBeLessThan(userAt); // written as root, before the image drops to 10001
    expect(copyOf(runtime.find((i) => i.op === 'COPY' && i.args.includes('/src/dist'))!).dest).toBe('./dist');
  });

  it('builds every other service from this Dockerfile, read-only with a tmpfs /tmp, without privileges', () => {
    for (const s of [...services.values()].filter((x) => x.name !== 'redis')) {
      // The dev profile runs the dev image; the default services the production one, which has no dev code.
      const expected = s.profiles.includes('dev') ? [{ context: '.', target: 'dev' }, 'sts-vend:dev'] : [{ context: '.', target: 'production' }, 'sts-vend:local'];
      expect([s.name, s.build, s.image]).toEqual([s.name, ...expected]);
      expect([s.name, s.raw.read_only, s.raw.tmpfs]).toEqual([s.name, true, ['/tmp']]);
      expect(s.raw.cap_drop).toEqual(['ALL']);
    }
  });

  it('starts nothing of the dev profile for the default services, and depends only on defined services', () => {
    for (const s of services.values()) {
      for (const d of s.dependsOn) {
        expect([s.name, services.has(d)]).toEqual([s.name, true]);
        if (s.profiles.length === 0) expect([s.name, d, service(d).profiles]).toEqual([s.name, d, []]);
      }
    }
    expect(service('sts-vend-dev').dependsOn.sort()).toEqual(['dev-issuer', 'dev-issuer-ci', 'local-aws', 'redis']);
  });
});

describe('mounts', () => {
  it('mounts only paths that exist in the repository (or the host ~/.aws), all read-only', () => {
    for (const s of services.values()) {
      for (const m of s.mounts) {
        expect([s.name, m.target, m.readOnly]).toEqual([s.name, m.target, true]);
        if (m.source.startsWith('~')) expect(m.source).toBe('~/.aws');
        else expect([s.name, m.source, existsSync(path.resolve(ROOT, m.source))]).toEqual([s.name, m.source, true]);
      }
    }
  });

  it('mounts the host ~/.aws where the image looks for it (HOME), for the real-AWS service only', () => {
    expect(service('sts-vend').mounts.find((m) => m.source === '~/.aws')?.target).toBe(`${imageEnv.HOME}/.aws`);
    expect(service('sts-vend-dev').mounts.some((m) => m.source.startsWith('~'))).toBe(false);
  });
});

describe('config files', () => {
  it.each(stsVendServices.map((s) => [s.name, s]))('%s: the mounted config passes validation and its templates load', async (_name, s) => {
    const config = configOf(s);
    const templatesDir = hostPathOf(s, config.templatesDir) ?? fail(`${s.name}: templatesDir ${config.templatesDir} is not mounted`);
    expect(statSync(templatesDir).isDirectory()).toBe(true);
    const templates = await loadTemplates(templatesDir, { issuers: config.issuers.map((i) => i.name), maxDurationSeconds: config.sessions.maxDurationSeconds });
    expect(templates.length).toBeGreaterThan(0);
    expect(new URL(config.redis.url ?? 'missing:').hostname).toBe('redis');
  });

  it('mounts the config at the path the image reads ($STS_VEND_CONFIG)', () => {
    expect(imageEnv.STS_VEND_CONFIG).toBe('/etc/sts-vend/config.yaml');
    for (const s of stsVendServices) expect(s.mounts.map((m) => m.target)).toContain(imageEnv.STS_VEND_CONFIG);
  });
});

describe('ports and health', () => {
  it("publishes the config's server.port, which the Dockerfile EXPOSEs, on the host's loopback", () => {
    expect(exposed).toEqual([8080]);
    for (const s of stsVendServices) {
      expect(s.ports.map((p) => [p.hostIp, p.container])).toEqual([['127.0.0.1', configOf(s).server.port]]);
    }
  });

  it('publishes the dev services on the port their command listens on, loopback only, no host port twice', () => {
    for (const name of ['local-aws', 'dev-issuer', 'dev-issuer-ci']) {
      const s = service(name);
      expect(s.ports).toEqual([{ hostIp: '127.0.0.1', host: Number(argOf(s.command, '--port')), container: Number(argOf(s.command, '--port')) }]);
    }
    const hostPorts = [...services.values()].flatMap((s) => s.ports.map((p) => p.host));
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
  });

  it("probes sts-vend with the image's HEALTHCHECK, whose /healthz is a documented route", () => {
    const healthcheck = runtime.find((i) => i.op === 'HEALTHCHECK')!;
    const probe = execForm(healthcheck.args);
    for (const s of stsVendServices) expect(s.healthcheck).toEqual(['CMD', ...probe]);
    expect(probe).toEqual(['node', 'dist/startup/healthcheck.js']);
    expect(existsSync(path.join(ROOT, 'src/startup/healthcheck.ts'))).toBe(true);
    expect(read('src/startup/healthcheck.ts')).toContain('/healthz');
    expect(Object.keys((parseYaml(read('openapi.yaml')) as { paths: object }).paths)).toContain('/healthz');
  });

  it('gives every service built from the image its own healthcheck (the image one probes sts-vend)', () => {
    for (const s of [...services.values()].filter((x) => x.build)) expect([s.name, s.healthcheck!.length > 0]).toEqual([s.name, true]);
  });
});

describe('credentials', () => {
  const state = loadLocalAwsState(hostPathOf(service('local-aws'), argOf(service('local-aws').command, '--state')!)!);
  const devKey = state.credentials[0]!;

  it('passes the host AWS environment through to the real-AWS service without a value', () => {
    const s = service('sts-vend');
    expect(s.passThrough).toEqual(expect.arrayContaining(['AWS_PROFILE', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_ENDPOINT_URL']));
    expect(Object.keys(s.env).filter((k) => k.startsWith('AWS_'))).toEqual([]);
  });

  it('has no AWS key or secret literal except the emulator dev identity, in the dev profile only', () => {
    const compose = read('docker-compose.yml');
    const keyIds = [...compose.matchAll(/\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g)].map((m) => m[0]);
    expect(new Set(keyIds)).toEqual(new Set([devKey.accessKeyId]));
    for (const s of services.values()) {
      const secrets = Object.entries(s.env).filter(([k]) => /SECRET|SESSION_TOKEN|ACCESS_KEY_ID/.test(k));
      if (s.profiles.includes('dev')) continue;
      expect([s.name, secrets]).toEqual([s.name, []]);
    }
    expect(service('sts-vend-dev').env).toMatchObject({ AWS_ACCESS_KEY_ID: devKey.accessKeyId, AWS_SECRET_ACCESS_KEY: devKey.secretAccessKey });
    for (const file of ['Dockerfile', 'deploy/compose/sts-vend.yaml', 'deploy/compose/sts-vend.dev.yaml']) {
      expect([file, /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|aws_secret/i.test(read(file))]).toEqual([file, false]);
    }
  });

  it('keeps credentials out of the build context', () => {
    for (const f of ['.aws/credentials', 'deploy/.env', '.env', 'node_modules/x', 'dist/main.js', 'certs/server.pem']) expect([f, dockerIgnored(f)]).toEqual([f, true]);
  });
});

describe('dev profile', () => {
  const emulator = service('local-aws');
  const dev = service('sts-vend-dev');

  it('runs the emulator with a state file the emulator accepts', () => {
    const state = hostPathOf(emulator, argOf(emulator.command, '--state')!)!;
    expect(state).toBe(path.join(ROOT, 'policies/local-aws-state.yaml'));
    expect(() => loadLocalAwsState(state)).not.toThrow();
    expect(emulator.command.slice(0, 2)).toEqual(['node', 'dist/dev/local-aws/main.js']);
  });

  it('points the dev service, and only it, at the emulator by service name and port', () => {
    expect(dev.env.AWS_ENDPOINT_URL).toBe(`http://local-aws:${argOf(emulator.command, '--port')}`);
    for (const s of services.values()) if (!s.profiles.includes('dev')) expect([s.name, s.env.AWS_ENDPOINT_URL]).toEqual([s.name, undefined]);
  });

  it("pins each dev issuer at the URL that issuer calls itself, by service name, with minting allowed (dev only)", () => {
    const config = configOf(dev);
    const publicUrls = ['dev-issuer', 'dev-issuer-ci'].map((n) => {
      const s = service(n);
      const url = argOf(s.command, '--public-url')!;
      expect(new URL(url)).toMatchObject({ hostname: n, port: argOf(s.command, '--port') });
      expect(s.command).toContain('--allow-mint');
      return url;
    });
    expect(config.issuers.map((i) => i.issuer).sort()).toEqual(publicUrls.sort());
  });
});

describe('Dockerfile', () => {
  it('builds on node:20-bookworm-slim and runs as uid 10001 in /app with NODE_ENV=production', () => {
    expect(stages.map((s) => s[0]!.args)).toEqual(['node:20-bookworm-slim AS build', 'node:20-bookworm-slim AS base', 'base AS dev', 'base AS production']);
    expect(runtime.filter((i) => i.op === 'USER').map((i) => i.args)).toEqual(['10001:10001']);
    expect(runtime.find((i) => i.op === 'WORKDIR')?.args).toBe('/app');
    expect(imageEnv.NODE_ENV).toBe('production');
  });

  it('runs `node dist/main.js`, the same file as `npm start`', () => {
    const cmd = execForm(runtime.find((i) => i.op === 'CMD')!.args);
    expect(cmd).toEqual(['node', 'dist/main.js']);
    expect((JSON.parse(read('package.json')) as { scripts: { start: string } }).scripts.start).toBe(cmd.join(' '));
  });

  it('copies from the context only files that exist and that .dockerignore lets through', () => {
    for (const stage of stages) {
      for (const c of stage.filter((i) => i.op === 'COPY').map(copyOf).filter((c) => !c.from)) {
        for (const src of c.sources) expect([src, existsSync(path.join(ROOT, src)), dockerIgnored(src)]).toEqual([src, true, false]);
      }
    }
  });

  it('installs production dependencies only into the runtime stage, and no secret', () => {
    const build = stages[0]!.filter((i) => i.op === 'RUN').map((i) => i.args).join('\n');
    expect(build).toMatch(/npm ci/);
    expect(build).toMatch(/npm run build/);
    expect(build).toMatch(/npm prune --omit=dev/);
    expect(runtime.filter((i) => i.op === 'COPY').map((i) => copyOf(i).dest).sort()).toEqual(['./dist', './node_modules', './openapi.yaml', './package.json', './policies/templates']);
    for (const stage of stages) expect(stage.filter((i) => /^(ENV|ARG)$/.test(i.op) && /AWS_/.test(i.args))).toEqual([]);
  });

  it('holds no dev code in the production image: no emulator, no dev issuer, no emulator world', () => {
    const dist = runtime.filter((i) => i.op === 'COPY').map(copyOf).find((c) => c.dest === './dist')!;
    expect(dist).toMatchObject({ from: 'build', sources: ['/src/dist'] });
    // dist is `npm run build`'s output, whose project leaves src/dev out; nothing it compiles pulls src/dev in.
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    const project = /^tsc -p (\S+)$/.exec(scripts.build!)![1]!;
    const parsed = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, project), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => fail(`${project} does not parse`) })!;
    const program = ts.createProgram(parsed.fileNames, parsed.options);
    const compiled = program.getSourceFiles().map((f) => path.relative(ROOT, f.fileName)).filter((f) => f.startsWith('src/'));
    expect(compiled.length).toBeGreaterThan(50);
    expect(compiled.filter((f) => f.startsWith('src/dev/'))).toEqual([]);
    expect(runtime.filter((i) => i.op === 'COPY').flatMap((i) => copyOf(i).sources).filter((p) => /local-aws|dist-dev/.test(p))).toEqual([]);
    // The dev image is the production one plus the dev build and the emulator's world.
    const devCopies = devImage.filter((i) => i.op === 'COPY').map(copyOf);
    expect(devCopies.find((c) => c.dest === './dist')).toMatchObject({ from: 'build', sources: ['/src/dist-dev'] });
    expect(devCopies.map((c) => c.dest)).toContain('./policies/local-aws-state.yaml');
    expect(read('Dockerfile')).toMatch(/npm run build && npm run build:dev/);
  });
});

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.map(String) : [];
}

function fail(message: string): never {
  throw new Error(message);
}
