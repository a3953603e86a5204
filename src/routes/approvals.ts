import { Router } from 'express';
import { approvalBody, collectApproval, decideApproval, listApprovals, readApproval, type CollectApprovalPorts, type DecideApprovalPorts } from '../approvals/approvals';
import type { RoutePorts } from './guards';
import { authenticate, locals, validate } from './middleware';
import { vendAnswer, type VendAnswerPorts } from './vend-answer';

/**
 * Approvals (src/approvals/): the requester reads and collects its own; approvers (the template's approver
 * groups) list, read and decide them. Anyone else learns nothing, not even that a request exists.
 */
export function approvalRoutes(deps: RoutePorts & DecideApprovalPorts & CollectApprovalPorts & VendAnswerPorts): Router {
  const router = Router();
  router.get('/v1/approvals', authenticate(deps), validate(deps, 'GET', '/v1/approvals'), async (req, res) => {
    const { state } = req.query as { state?: string };
    const list = await listApprovals(deps, locals(res).identity!, state);
    res.json({ approvals: list.map(approvalBody) });
  });
  router.get('/v1/approvals/:id', authenticate(deps), validate(deps, 'GET', '/v1/approvals/:id'), async (req, res) => {
    res.json(approvalBody(await readApproval(deps, locals(res).identity!, String(req.params.id))));
  });
  for (const [verb, outcome] of [['approve', 'approved'], ['deny', 'denied']] as const) {
    const route = `/v1/approvals/:id/${verb}` as const;
    router.post(route, authenticate(deps), validate(deps, 'POST', route), async (req, res) => {
      const { reason } = req.body;
      const rec = await decideApproval(deps, locals(res).identity!, String(req.params.id), outcome, reason, locals(res).requestId);
      res.json(approvalBody(rec));
    });
  }
  router.post('/v1/approvals/:id/collect', authenticate(deps), validate(deps, 'POST', '/v1/approvals/:id/collect'), async (req, res) => {
    const { result } = await collectApproval(deps, locals(res).identity!, String(req.params.id), locals(res).requestId);
    res.setHeader('Cache-Control', 'no-store');
    res.json(vendAnswer(deps, req, result));
  });
  return router;
}
