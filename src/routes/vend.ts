import { Router } from 'express';
import { approvalBody, approvalRule, requestApproval, type RequestApprovalPorts } from '../approvals/approvals';
import { vendCredentials, type VendPorts } from '../vend/vend-credentials';
import type { RoutePorts } from './guards';
import { authenticate, locals, validate } from './middleware';
import { vendAnswer, type VendAnswerPorts } from './vend-answer';

/** POST /v1/vend: the whole story lives in vendCredentials; this only adapts HTTP. */
export function vendRoutes(deps: RoutePorts & VendPorts & RequestApprovalPorts & VendAnswerPorts): Router {
  const router = Router();
  router.post('/v1/vend', authenticate(deps), validate(deps, 'POST', '/v1/vend'), async (req, res) => {
    const stop = deps.metrics.vendDuration.startTimer();
    const { requestId, identity } = locals(res);
    try {
      const body = req.body;
      // A template that requires approval: 202 with the request's id, nothing issued (src/approvals/).
      if (approvalRule(deps.templates.get(body.template))) {
        const approval = await requestApproval(deps, identity!, body, requestId);
        res.setHeader('Cache-Control', 'no-store');
        res.status(202).json(approvalBody(approval));
        stop({ outcome: 'approval' });
        return;
      }
      res.setHeader('Cache-Control', 'no-store');
      res.json(vendAnswer(deps, req, await vendCredentials(deps, identity!, body, requestId)));
      stop({ outcome: 'allowed' });
    } catch (err) {
      stop({ outcome: 'refused' });
      throw err;
    }
  });
  return router;
}
