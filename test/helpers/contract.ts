import type { Express } from 'express';
import type { Response } from 'supertest';
import { loadOpenApi } from '../../src/openapi';

const openapi = loadOpenApi();

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** Every `METHOD /route` the express app serves, read from its router. */
export function servedRoutes(app: Express): string[] {
  const out: string[] = [];
  const walk = (stack: Layer[]): void => {
    for (const layer of stack) {
      if (layer.route) {
        for (const m of Object.keys(layer.route.methods)) out.push(`${m.toUpperCase()} ${layer.route.path}`);
      } else if (layer.handle?.stack) walk(layer.handle.stack);
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return out;
}

/** Every `METHOD /route` openapi.yaml documents. */
export const documentedRoutes = (): string[] => openapi.operations.map((o) => `${o.method} ${o.route}`);

/** Fails the test unless the response matches the status and body schema openapi.yaml gives for it. */
export function expectContract(res: Response, method: string, route: string): void {
  const op = openapi.find(method, route);
  if (!op) throw new Error(`openapi.yaml has no ${method} ${route}`);
  const validate = op.responses.get(String(res.status));
  if (!validate) throw new Error(`openapi.yaml has no ${res.status} response for ${method} ${route}; body: ${JSON.stringify(res.body)}`);
  if (!validate(res.body)) {
    throw new Error(`${method} ${route} ${res.status} breaks the contract: ${JSON.stringify(validate.errors)}; body: ${JSON.stringify(res.body)}`);
  }
}
