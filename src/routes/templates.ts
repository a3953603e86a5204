import { Router } from 'express';
import type { ObservabilityPort, TemplatesPort, VerifierPort } from '../ports';
import { allows } from '../templates/authorize';
import { authenticate, locals } from './middleware';

/** GET /v1/templates: only the templates this caller may vend, so agents can discover their tasks. */
export function templateRoutes(deps: VerifierPort & ObservabilityPort & TemplatesPort): Router {
  const router = Router();
  router.get('/v1/templates', authenticate(deps), (_req, res) => {
    const identity = locals(res).identity!;
    const templates = [...deps.templates.values()]
      .filter((t) => allows(t, identity))
      .map((t) => ({
        name: t.name,
        description: t.description,
        roleArn: t.roleArn,
        access: t.access,
        maxDurationSeconds: t.maxDurationSeconds,
        ...(t.allow.projects ? { projects: t.allow.projects } : {}),
        parameters: t.parameters,
      }));
    res.json({ templates });
  });
  return router;
}
