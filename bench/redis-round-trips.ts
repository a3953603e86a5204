/**
 * Measurement 4b, Redis round trips per vend, counted rather than taken from the design: a second service
 * process reaches Redis through a TCP relay that counts the bursts the service writes, and vends one at a time,
 * so every burst is one wait on Redis (a pipeline is one burst, and so are commands sent before any reply
 * came back, as they cost one wait). Background traffic (the reconciler's lease) is measured idle and
 * subtracted. A second process, so the relay's extra hop never touches the throughput figures.
 */
import net from 'node:net';
import type { DevIssuer } from '../src/dev/dev-issuer';
import { keepAliveAgent, request } from './load';
import { startService, type ServiceTarget } from './processes';
import { agentClaims, VEND_BODY } from './world';

const VENDS = 200;
const IDLE_MS = 2000;

export interface RoundTrips {
  vends: number;
  bursts: number;
  idleBurstsPerSecond: number;
  roundTripsPerVend: number;
}

/** A relay to Redis counting the client's bursts: writes after a reply, each one wait on Redis. */
async function startCountingRelay(redisUrl: string): Promise<{ url: string; bursts(): number; stop(): Promise<void> }> {
  const target = new URL(redisUrl);
  let bursts = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: target.hostname, port: Number(target.port) });
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    for (const s of [client, upstream]) sockets.add(s);
    // A round trip starts when the client writes after it last heard back; writes before any reply are one wait.
    let waiting = false;
    client.on('data', (d) => {
      if (!waiting) bursts++;
      waiting = true;
      upstream.write(d);
    });
    upstream.on('data', (d) => {
      waiting = false;
      client.write(d);
    });
    const close = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `redis://127.0.0.1:${port}`,
    bursts: () => bursts,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Starts the relay and a second service behind it, vends VENDS times one at a time, and counts. */
export async function measureRoundTrips(t: Omit<ServiceTarget, 'issuer'> & { issuer: DevIssuer }, log: (line: string) => void): Promise<RoundTrips> {
  const relay = await startCountingRelay(t.redisUrl);
  const service = await startService('service (round trips)', { ...t, issuer: t.issuer.issuer, redisUrl: relay.url });
  const agent = keepAliveAgent(1);
  try {
    const token = await t.issuer.mint(agentClaims(1000), { expiresInSeconds: 3600 });
    const vend = async (): Promise<void> => {
      const res = await request(agent, `${service.url}/v1/vend`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(VEND_BODY),
      });
      if (res.status !== 200) throw new Error(`vend through the second service failed: ${res.status} ${res.body.slice(0, 300)}`);
    };
    for (let i = 0; i < 20; i++) await vend();
    const idleStart = relay.bursts();
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const idlePerSecond = ((relay.bursts() - idleStart) * 1000) / IDLE_MS;
    const start = relay.bursts();
    const began = process.hrtime.bigint();
    for (let i = 0; i < VENDS; i++) await vend();
    const seconds = Number(process.hrtime.bigint() - began) / 1e9;
    const bursts = relay.bursts() - start;
    const result = { vends: VENDS, bursts, idleBurstsPerSecond: idlePerSecond, roundTripsPerVend: (bursts - idlePerSecond * seconds) / VENDS };
    log(`  ${VENDS} sequential vends: ${bursts} bursts to Redis (idle ${idlePerSecond.toFixed(1)}/s): ${result.roundTripsPerVend.toFixed(2)} round trips per vend`);
    return result;
  } finally {
    agent.destroy();
    await service.child.stop();
    await relay.stop();
  }
}
