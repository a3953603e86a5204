// Generated from openapi.yaml by scripts/openapi-types.ts (npm run types:openapi): do not edit by hand.
// Types only: the client imports it without loading anything of the server.

export interface paths {
    "/v1/vend": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Vend task-scoped AWS credentials
         * @description Verifies the OIDC bearer token, checks the caller may use the template, renders its session policy with
         *     the parameters, records the session, calls sts:AssumeRole with session tags and a source identity, and
         *     answers the credentials. Responses carry `Cache-Control: no-store`.
         */
        post: operations["vendCredentials"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/templates": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The templates this caller may use, with their parameter schemas */
        get: operations["listTemplates"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sessions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Live sessions, for operators, filtered and paginated */
        get: operations["listSessions"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sessions/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One session's record (no secrets), for its owner or an operator */
        get: operations["getSession"];
        put?: never;
        post?: never;
        /** End a session early (its owner, or an operator); runs the same revocation path */
        delete: operations["endSession"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sessions/{id}/calls": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The AWS calls a gateway session made, newest first, for its owner or an operator
         * @description One entry per call the gateway answered (forwarded or refused), the most recent `gateway.historySize`
         *     kept until the session ends plus the grace period. No payloads, no secrets. Sessions of another
         *     delivery list no calls.
         */
        get: operations["listSessionCalls"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/revoke": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Revoke a session, a developer, a project, a template or everything (operators)
         * @description Exactly one selector: `sessionId`, `developer`, `project`, `template` or `all: true`, plus a `reason`.
         *     Layer 1: the service refuses the revoked scope at once on every vend and refresh. Layer 2: a Deny in
         *     the `sts-vend-revocations` inline policy of every affected role makes already-issued credentials fail
         *     in AWS. 200 when every role's policy is written, 202 while some role is pending (a reconciler retries).
         *     IAM changes take seconds to minutes to propagate.
         */
        post: operations["revoke"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/revocations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Revocations, newest first (operators) */
        get: operations["listRevocations"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/revocations/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One revocation with each role's AWS state (operators) */
        get: operations["getRevocation"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/revocations/{id}/block": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Lift the block a revocation set, before it runs out (operators)
         * @description The block shrinks to the revocation's own cut-off if that is still ahead (a few seconds at most):
         *     credentials issued before it would be denied in AWS anyway.
         */
        delete: operations["liftBlock"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/approvals": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Approval requests the caller made or may decide, newest first */
        get: operations["listApprovals"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/approvals/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One approval request (its requester or an approver; anyone else gets 404) */
        get: operations["getApproval"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/approvals/{id}/approve": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Approve a pending request (a member of the template's approver groups, never the requester) */
        post: operations["approve"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/approvals/{id}/deny": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Deny a pending request (same rules as approve) */
        post: operations["deny"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/approvals/{id}/collect": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * The requester collects the credentials of an approved request, once, with a fresh token
         * @description The vend runs now as the caller (same issuer, owner and developer as the request): the template must still
         *     allow it, blocks and limits apply. 409 approval_pending (Retry-After) until it is decided. Responses
         *     carry `Cache-Control: no-store`.
         */
        post: operations["collectApproval"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/credentials/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Container credentials endpoint of a refreshable session
         * @description For the AWS SDKs' container credentials provider. Authorization is the raw session token from the
         *     vend (no scheme). Reuses the current credential until it is within 6 minutes of expiry, then issues a
         *     new one for the same session (same tags, policy, role session name and source identity). Refusals
         *     answer `{"Code", "Message"}`, which the SDKs surface. Each call checks the kill switch.
         *
         *     `Expiration` is the credential's real expiry or one minute from now, whichever is sooner: inside
         *     botocore's mandatory refresh window (10 minutes), so boto3 and the AWS CLI come back before each AWS
         *     call and a refusal fails that call; the JavaScript SDK's default chain (refreshing 5 minutes ahead,
         *     in the background) comes back before each call too and stops within the minute. The credential itself
         *     lasts longer (`CredentialExpiration`); a visit while it has more than 6 minutes left costs no AssumeRole.
         */
        get: operations["containerCredentials"];
        put?: never;
        post?: never;
        /**
         * End a refreshable session with its own token
         * @description The holder of the session's token ends it (`sts-vend exec` does when its command exits), without the
         *     OIDC token that vended it, which may have expired by then. The same path as the owner's
         *     `DELETE /v1/sessions/{id}`: refreshes are refused at once and the session's Deny is written to its
         *     role (`Pending` while IAM is still being retried). A session already revoked, ended or expired answers
         *     200 as well.
         */
        delete: operations["endContainerSession"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/credentials/{id}/checkpoint": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Kill-switch checkpoint of a refreshable session, issuing nothing
         * @description The checks of `GET /v1/credentials/{id}` (token, revoked, ended, blocked, past its lifetime; two Redis
         *     round trips) without a credential and without ever calling AWS. For clients that keep the credential
         *     themselves and re-ask before each use: `sts-vend credentials` on every run and `sts-vend exec`'s
         *     loopback endpoint. Refusals are those of `GET /v1/credentials/{id}`.
         */
        get: operations["containerCheckpoint"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The process is alive */
        get: operations["health"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/readyz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Redis answers and templates are loaded */
        get: operations["ready"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Prometheus metrics */
        get: operations["metrics"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        SessionId: string;
        TemplateName: string;
        VendRequest: {
            template: components["schemas"]["TemplateName"];
            /** @description Values for the template's parameter schema (see GET /v1/templates). */
            parameters?: Record<string, unknown>;
            /** @description Used only when the token carries no project claim and the template allows this project. */
            project?: string;
            /** @description Requested credential lifetime; capped by the template and the configuration. */
            durationSeconds?: number;
            /**
             * @description `container` makes a refreshable session: the answer adds `container.url` and
             *     `container.authorizationToken` for AWS_CONTAINER_CREDENTIALS_FULL_URI and
             *     AWS_CONTAINER_AUTHORIZATION_TOKEN; every refresh is a kill-switch checkpoint.
             *     `gateway` answers `gateway` (endpoint URL and gateway credentials) and no AWS credential: the agent's
             *     AWS calls go through the gateway, which checks, signs and logs each one (400 delivery_unavailable
             *     when the gateway is not enabled).
             * @default credentials
             * @enum {unknown}
             */
            delivery?: "credentials" | "container" | "gateway";
            /**
             * @description Container and gateway delivery only; how long the session may keep refreshing (capped by template and
             *     config). Default: the template's `defaultSessionDurationSeconds`, else the config's
             *     `sessions.defaultSessionDurationSeconds` (3600).
             */
            sessionDurationSeconds?: number;
            /** @description Why the caller asks; shown to approvers when the template requires approval. */
            reason?: string;
        };
        ApprovalId: string;
        ApprovalDecision: {
            reason: string;
        };
        Approval: {
            approvalId: components["schemas"]["ApprovalId"];
            /** @enum {unknown} */
            state: "pending" | "approved" | "denied" | "expired" | "collected";
            requester: {
                issuer: string;
                subject: string;
                owner: string;
                /** @description The identity key */
                developer: string;
                developerClaim: string;
                accessType: string;
            };
            template: components["schemas"]["TemplateName"];
            roleArn: string;
            /** @description The vend as asked (template, parameters, project, durationSeconds, delivery) */
            request: Record<string, unknown>;
            /** @description The project key the session will be tagged with */
            project: string;
            /** @description The session policy the vend will pass to AssumeRole */
            policy: Record<string, unknown>;
            reason: string;
            approverGroups: string[];
            /** Format: date-time */
            createdAt: string;
            /**
             * Format: date-time
             * @description A pending request expires here
             */
            expiresAt: string;
            /**
             * Format: date-time
             * @description An approved request can be collected until here
             */
            collectBy?: string;
            sessionId?: components["schemas"]["SessionId"];
            decision?: {
                /** @enum {unknown} */
                outcome: "approved" | "denied";
                by: string;
                byClaim: string;
                issuer: string;
                reason: string;
                /** Format: date-time */
                at: string;
            };
            links: {
                self: string;
                collect: string;
            };
        };
        /** @description Exactly one of `credentials` (credentials and container delivery) and `gateway` (gateway delivery). */
        VendResponse: {
            sessionId: components["schemas"]["SessionId"];
            template: components["schemas"]["TemplateName"];
            roleArn: string;
            assumedRoleArn: string;
            roleSessionName: string;
            sourceIdentity: string;
            tags: {
                [key: string]: string;
            };
            /**
             * Format: date-time
             * @description When these credentials expire
             */
            expiresAt: string;
            /**
             * Format: date-time
             * @description When the session stops refreshing (equals expiresAt unless delivery is container)
             */
            sessionExpiresAt: string;
            packedPolicySize: number;
            container?: {
                /** @description The session's container credentials endpoint */
                url: string;
                /** @description Shown once; the service keeps only its hash */
                authorizationToken: string;
            };
            gateway?: {
                /** @description AWS_ENDPOINT_URL for the agent's SDK or CLI (`--endpoint-url`) */
                endpointUrl: string;
                /** @description Not an AWS key; names the session at the gateway */
                accessKeyId: string;
                /** @description Valid only at this gateway; derived from the server key, stored nowhere */
                secretAccessKey: string;
                region: string;
                /** @description Proxy mode (`gateway.proxy.enabled`): HTTPS_PROXY for clients that reach AWS by its own host names */
                proxyUrl?: string;
                /** @description Proxy mode: PEM of the gateway CA certificate the agent trusts for AWS hosts (AWS_CA_BUNDLE, NODE_EXTRA_CA_CERTS); never its key */
                caBundle?: string;
            };
            credentials?: {
                accessKeyId: string;
                secretAccessKey: string;
                sessionToken: string;
                /** Format: date-time */
                expiration: string;
            };
        } & (unknown | unknown);
        TemplateSummary: {
            name: components["schemas"]["TemplateName"];
            description: string;
            roleArn: string;
            /** @enum {unknown} */
            access: "read" | "write";
            maxDurationSeconds: number;
            projects?: string[];
            /** @description JSON Schema of the template's parameters */
            parameters: Record<string, unknown>;
        };
        Session: {
            id: components["schemas"]["SessionId"];
            /** @enum {unknown} */
            state: "pending" | "live" | "failed" | "revoked" | "ended";
            issuer?: string;
            subject?: string;
            /** @description Who may read or end it: the subject, or a JSON list of the subject and the issuer's owner claims */
            owner?: string;
            /** @description The developer key (the `developer` tag) */
            developer: string;
            /** @description The raw claim the key was made from */
            developerClaim?: string;
            /** @description The project key (the `project` tag) */
            project: string;
            accessType: string;
            template: string;
            roleArn: string;
            roleSessionName: string;
            sourceIdentity: string;
            parameters?: Record<string, unknown>;
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            issuedAt?: string;
            /** Format: date-time */
            expiresAt: string;
            accessKeyId?: string;
            assumedRoleArn?: string;
            packedPolicySize?: number;
            failure?: string;
            /** Format: date-time */
            revokedAt?: string;
            revocationId?: string;
            /**
             * Format: date-time
             * @description Refreshable sessions refuse refreshes from then on
             */
            sessionEndsAt?: string;
            credentialSeconds?: number;
            /**
             * @description Present for gateway sessions
             * @constant
             */
            delivery?: "gateway";
        };
        GatewayCall: {
            /** Format: date-time */
            at: string;
            requestId: string;
            /** @description Signing name from the credential scope (s3, sts, dynamodb...) */
            service: string;
            /** @description `service:Operation` when the gateway could tell it */
            operation?: string;
            /** @description Bucket/key, table, function, log group... where readable */
            resource?: string;
            region: string;
            status: number;
            /** @description AWS error code, or the gateway's own refusal code */
            code?: string;
            bytesIn: number;
            bytesOut: number;
            latencyMs: number;
            /** @description True when the gateway answered itself and nothing reached AWS */
            refused: boolean;
        };
        RevocationId: string;
        RevokeRequest: {
            sessionId?: components["schemas"]["SessionId"];
            /**
             * @description The developer key as tags, CloudTrail and the listings show it (`alice@example.com`, `ci:octocat`,
             *     `-@x.com=Q3ZK5W2XDEMJ7NAB`), or a configured issuer (name or `iss`) and the raw claim.
             */
            developer?: string | {
                issuer: string;
                claim: string;
            };
            /** @description The project key, or a raw project name (turned into its key) */
            project?: string;
            template?: components["schemas"]["TemplateName"];
            /** @constant */
            all?: true;
            reason: string;
            block?: {
                durationSeconds: number;
            };
        };
        Selector: {
            /** @enum {unknown} */
            kind: "session" | "developer" | "project" | "template" | "all";
            value?: string;
        };
        Revocation: {
            revocationId: components["schemas"]["RevocationId"];
            selector: components["schemas"]["Selector"];
            reason: string;
            /** @description The developer identity of who revoked */
            operator: string;
            /** Format: date-time */
            createdAt: string;
            sessionsRevoked: number;
            /** Format: date-time */
            blockedUntil?: string;
            roles: {
                roleArn: string;
                /** @enum {unknown} */
                state: "applied" | "pending";
                error?: string;
                /** @description Operator entries were folded into a role-wide Deny to fit the role's policy size limit */
                compacted?: boolean;
                /** @description Developers whose ended sessions the role's Deny covers by a cut-off of their own (self-service past its share) */
                selfServiceFolded?: number;
                /** @description Self-service cut-offs this write left out of the Deny (self-service over its share of the role's budget); the service still refuses those sessions */
                selfServiceDropped?: number;
            }[];
            note: string;
        };
        Health: {
            /** @enum {unknown} */
            status: "ok" | "unavailable";
            checks?: {
                [key: string]: string;
            };
        };
        Error: {
            error: {
                code: components["schemas"]["ErrorCode"];
                message: string;
                requestId: string;
                details?: Record<string, unknown>;
            };
        };
        /**
         * @description Every code the API answers, each always with one status (the table in src/error-codes.ts; a test holds
         *     this list, that table and every error the code throws equal). What each means: the README's API section.
         *     400: invalid_request, malformed_json, delivery_unavailable, ill_formed_text, invalid_developer, invalid_parameters, invalid_identity, project_required, packed_policy_too_large, aws_limit_exceeded
         *     401: missing_token, malformed_token, token_too_large, unknown_issuer, invalid_audience, unsupported_algorithm, invalid_signature, unknown_key, token_expired, token_not_yet_valid, token_too_old, token_lifetime_too_long, ambiguous_authorization, ill_formed_claim, missing_claim, invalid_claim, bound_claim_mismatch
         *     403: template_forbidden, project_not_allowed, project_mismatch, operator_only, blocked, session_revoked, approval_required, self_approval, not_an_approver, destination_not_allowed
         *     404: unknown_template, session_not_found, revocation_not_found, approval_not_found, not_found
         *     409: no_block, template_removed, approval_pending, approval_approved, approval_denied, approval_expired, approval_collected, approval_decided
         *     413: payload_too_large
         *     415: unsupported_media_type
         *     429: rate_limited, too_many_sessions, too_many_approvals
         *     500: internal_error, policy_invalid, policy_too_large
         *     502: assume_role_denied, aws_credentials_invalid, aws_region_disabled, aws_bad_response, aws_error
         *     503: jwks_unavailable, store_unavailable, revocation_incomplete, aws_throttled, aws_unavailable
         * @enum {string}
         */
        ErrorCode: "invalid_request" | "malformed_json" | "delivery_unavailable" | "ill_formed_text" | "invalid_developer" | "invalid_parameters" | "invalid_identity" | "project_required" | "packed_policy_too_large" | "aws_limit_exceeded" | "missing_token" | "malformed_token" | "token_too_large" | "unknown_issuer" | "invalid_audience" | "unsupported_algorithm" | "invalid_signature" | "unknown_key" | "token_expired" | "token_not_yet_valid" | "token_too_old" | "token_lifetime_too_long" | "ambiguous_authorization" | "ill_formed_claim" | "missing_claim" | "invalid_claim" | "bound_claim_mismatch" | "jwks_unavailable" | "template_forbidden" | "project_not_allowed" | "project_mismatch" | "operator_only" | "blocked" | "session_revoked" | "approval_required" | "self_approval" | "not_an_approver" | "destination_not_allowed" | "unknown_template" | "session_not_found" | "revocation_not_found" | "approval_not_found" | "not_found" | "no_block" | "template_removed" | "approval_pending" | "approval_approved" | "approval_denied" | "approval_expired" | "approval_collected" | "approval_decided" | "payload_too_large" | "unsupported_media_type" | "rate_limited" | "too_many_sessions" | "too_many_approvals" | "internal_error" | "policy_invalid" | "policy_too_large" | "assume_role_denied" | "aws_credentials_invalid" | "aws_region_disabled" | "aws_bad_response" | "aws_error" | "store_unavailable" | "revocation_incomplete" | "aws_throttled" | "aws_unavailable";
    };
    responses: {
        /** @description An error with a stable code */
        Error: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description Try again after `Retry-After` seconds */
        RetryableError: {
            headers: {
                "Retry-After"?: number;
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /**
         * @description A refusal in the container provider's shape. Codes: 401 InvalidToken (also for a session id that does
         *     not exist, so a caller without the token learns nothing); 403 SessionRevoked,
         *     SessionBlocked (with Retry-After), SessionExpired; 404 SessionNotFound (malformed id); 409 template_removed;
         *     5xx with the codes of /v1/vend (store_unavailable, aws_throttled, ...; Retry-After where retryable).
         */
        ContainerError: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": {
                    Code: string;
                    Message: string;
                };
            };
        };
    };
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    vendCredentials: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["VendRequest"];
            };
        };
        responses: {
            /** @description Credentials for one task */
            200: {
                headers: {
                    "Cache-Control"?: "no-store";
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["VendResponse"];
                };
            };
            /**
             * @description The template requires approval (`approval.required`): nothing is issued. The answer is the approval
             *     request; once an approver approves it, the requester collects the credentials with
             *     POST /v1/approvals/{id}/collect and a fresh token.
             */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Approval"];
                };
            };
            400: components["responses"]["Error"];
            401: components["responses"]["Error"];
            403: components["responses"]["Error"];
            404: components["responses"]["Error"];
            413: components["responses"]["Error"];
            415: components["responses"]["Error"];
            429: components["responses"]["RetryableError"];
            500: components["responses"]["Error"];
            502: components["responses"]["Error"];
            503: components["responses"]["RetryableError"];
        };
    };
    listTemplates: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Templates the caller may vend */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        templates: components["schemas"]["TemplateSummary"][];
                    };
                };
            };
            401: components["responses"]["Error"];
            503: components["responses"]["RetryableError"];
        };
    };
    listSessions: {
        parameters: {
            query?: {
                /** @description The developer key, as tags, CloudTrail and listings show it */
                developer?: string;
                /** @description With `claim`, names a developer by a configured issuer (its name or `iss`) and the raw claim */
                issuer?: string;
                /** @description The raw developer claim (with `issuer`) */
                claim?: string;
                /** @description The project key, or a raw project name */
                project?: string;
                template?: components["schemas"]["TemplateName"];
                role?: string;
                /** @description The listing holds active sessions only; a revoked or ended one is read by id */
                state?: "pending" | "live";
                cursor?: string;
                limit?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description One page of sessions; pass `nextCursor` back as `cursor` for the next */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        sessions: components["schemas"]["Session"][];
                        nextCursor?: string;
                    };
                };
            };
            400: components["responses"]["Error"];
            401: components["responses"]["Error"];
            403: components["responses"]["Error"];
            503: components["responses"]["RetryableError"];
        };
    };
    getSession: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["schemas"]["SessionId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The session */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Session"];
                };
            };
            400: components["responses"]["Error"];
            401: components["responses"]["Error"];
            404: components["responses"]["Error"];
            503: components["responses"]["RetryableError"];
        };
    };
    endSession: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["schemas"]["SessionId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Ended and enforced in AWS */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Revocation"];
                };
            };
            /** @description Ended; AWS enforcement still pending for some role */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Revocation"];
                };
            };
            400: components["responses"]["Error"];
            401: components["responses"]["Error"];
            404: components["responses"]["Error"];
            503: components["responses"]["RetryableError"];
        };
    };
    listSessionCalls: {
        parameters: {
            query?: {
                limit?: number;
            };
            header?: never;
            path: {
                id: components["schemas"]["SessionId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Recent calls */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        sessionId: components["schemas"]["SessionId"];
                        calls: components["schemas"]["GatewayCall"][];
                    };
                };
            };
            400: components["responses"]["Error"];
            401: components["responses"]["Error"];
            404: components["responses"]["Error"];
            503: components["responses"]["RetryableError"];
        };
    };
    revoke: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["RevokeRequest"];
            };
        };
        responses: {
            /** @description Revoked and enforced in AWS for every affected role */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Revocation"];
                };
            };
            /** @description Revoked in the service; AWS enforcement pending for some role */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Revocation"];
                };
            };
            400: components["responses"]["Error"];
            401: components["responses"]["Error"];
            403: components["responses"]["Error"];
            404: components["responses"]["Error"];
            503: components["responses"]["RetryableError"];
        };
    };
    listRevocations: {
        parameters: {
            query?: {
                cursor?: string;
                limit?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description One page of revocations */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        revocations: components["schemas"]["Revocation"][];
                        nextCursor?: string;
                    };
                };
            };
            400: components["responses"]["Error"];
            401: components["responses"]["Error"];
            403: components["responses"]["Error"];
            503: components["responses"]["RetryableError"];
        };
    };
    getRevocation: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["schemas"]["RevocationId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The revocation */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Revocation"];
                };
            };
            400: components["responses"]["Error"];
            401: components["responses"]["Error"];
            403: components["responses"]["Error"];
            404: components["responses"]["Error"];
            503: components["responses"]["RetryableError"];
        };
    };
    liftBlock: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["schemas"]["RevocationId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The revocation, its block lifted */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Revocation"];
                };
            };
            400: components["responses"]["Error"];
            401: components["responses"]["Error"];
            403: components["responses"]["Error"];
            404: components["responses"]["Error"];
            409: components["responses"]["Error"];
            503: components["responses"]["RetryableError"];
        };
    };
    listApprovals: {
        parameters: {
            query?: {
                state?: "pending" | "approved" | "denied" | "expired" | "collected";
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The approvals */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        approvals: components["schemas"]["Approval"][];
                    };
                };
            };
            400: components["responses"]["Error"];
            401: components["responses"]["Error"];
            503: components["responses"]["RetryableError"];
        };
    };
    getApproval: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["schemas"]["ApprovalId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The approval */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Approval"];
                };
            };
            400: components["responses"]["Error"];
            401: components["responses"]["Error"];
            404: components["responses"]["Error"];
            503: components["responses"]["RetryableError"];
        };
    };
    approve: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["schemas"]["ApprovalId"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ApprovalDecision"];
            };
        };
        responses: {
            /** @description The approval, approved; the requester may collect it until `collectBy` */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Approval"];
                };
            };
            400: components["responses"]["Error"];
            401: components["responses"]["Error"];
            403: components["responses"]["Error"];
            404: components["responses"]["Error"];
            409: components["responses"]["Error"];
            415: components["responses"]["Error"];
            503: components["responses"]["RetryableError"];
        };
    };
    deny: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["schemas"]["ApprovalId"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ApprovalDecision"];
            };
        };
        responses: {
            /** @description The approval, denied */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Approval"];
                };
            };
            400: components["responses"]["Error"];
            401: components["responses"]["Error"];
            403: components["responses"]["Error"];
            404: components["responses"]["Error"];
            409: components["responses"]["Error"];
            415: components["responses"]["Error"];
            503: components["responses"]["RetryableError"];
        };
    };
    collectApproval: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["schemas"]["ApprovalId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Credentials, as POST /v1/vend answers them */
            200: {
                headers: {
                    "Cache-Control"?: "no-store";
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["VendResponse"];
                };
            };
            400: components["responses"]["Error"];
            401: components["responses"]["Error"];
            403: components["responses"]["Error"];
            404: components["responses"]["Error"];
            409: components["responses"]["RetryableError"];
            429: components["responses"]["RetryableError"];
            500: components["responses"]["Error"];
            502: components["responses"]["Error"];
            503: components["responses"]["RetryableError"];
        };
    };
    containerCredentials: {
        parameters: {
            query?: never;
            header: {
                Authorization: string;
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Credentials */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        AccessKeyId: string;
                        SecretAccessKey: string;
                        Token: string;
                        /** @description when to ask again (at most a minute ahead) */
                        Expiration: string;
                        /** @description when the credential itself expires */
                        CredentialExpiration?: string;
                        AccountId?: string;
                    };
                };
            };
            401: components["responses"]["ContainerError"];
            403: components["responses"]["ContainerError"];
            404: components["responses"]["ContainerError"];
            409: components["responses"]["ContainerError"];
            502: components["responses"]["ContainerError"];
            503: components["responses"]["ContainerError"];
        };
    };
    endContainerSession: {
        parameters: {
            query?: never;
            header: {
                Authorization: string;
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The session is over */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        SessionId: string;
                        /** @constant */
                        State: "ended";
                        /** @description the session's Deny is not yet written to its role */
                        Pending: boolean;
                    };
                };
            };
            401: components["responses"]["ContainerError"];
            403: components["responses"]["ContainerError"];
            404: components["responses"]["ContainerError"];
            503: components["responses"]["ContainerError"];
        };
    };
    containerCheckpoint: {
        parameters: {
            query?: never;
            header: {
                Authorization: string;
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The session may keep using its credential */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        SessionId: string;
                        /** @constant */
                        State: "live";
                        /** @description when the session stops refreshing */
                        SessionExpiration: string;
                    };
                };
            };
            401: components["responses"]["ContainerError"];
            403: components["responses"]["ContainerError"];
            404: components["responses"]["ContainerError"];
            503: components["responses"]["ContainerError"];
        };
    };
    health: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Alive */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Health"];
                };
            };
        };
    };
    ready: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Ready */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Health"];
                };
            };
            /** @description Not ready */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Health"];
                };
            };
        };
    };
    metrics: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Prometheus text exposition */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/plain": string;
                };
            };
        };
    };
}
