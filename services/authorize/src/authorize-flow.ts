// The decisions of an authorization request once it is well formed (issue: SPEC section 5), in this
// order: the user is signed in (recently enough, or again for prompt=login), still active, assigned
// to the client; the server's policy allows the grant and every scope; consent is given where the
// prompt x consent_method x scope-consent table of seed 001 asks for it; then the code and tokens
// are issued and the response goes back in the request's response mode, with `iss` (RFC 9207).
import { ScopeConsent } from '@gatehouse/contracts';
import type { EventBus } from '@gatehouse/event-bus';
import {
  type CodeRecord,
  evaluateAccessPolicy,
  grantKeys,
  newGrantId,
  orgServerDecision,
  type PolicyDecision,
  sha256Hex,
} from '@gatehouse/grants';
import { OAuthError } from '@gatehouse/http';
import {
  currentBindingDigest,
  type DirectoryCache,
  isAssigned,
  loadSubject,
  type ServerConfig,
} from '@gatehouse/oauth-reads';
import type { ProjectionStore } from '@gatehouse/projection-store';
import type { AuthorizationRequest, ResponseMode } from './authorize-request.js';
import { type Authentication, type FlowState, newSecret, type Transaction } from './flow-state.js';
import { appendGrantEvent } from './grant-log.js';
import type { TokenMinter } from './token-minter.js';

/** Seed 000 / SPEC section 5: authorization codes live 60 seconds. */
export const codeLifetimeMs = 60_000;

export interface FlowDeps {
  bus: EventBus;
  store: ProjectionStore;
  directory: DirectoryCache;
  flow: FlowState;
  minter: TokenMinter;
  now: () => number;
}

/** Where a request goes next. The HTTP layer turns each into a redirect or a page. */
export type Outcome =
  | { kind: 'respond'; target: ResponseTarget; params: Record<string, string> }
  | { kind: 'login'; transaction: Transaction }
  | {
      kind: 'consent';
      transaction: Transaction;
      scopes: { name: string; displayName: string; description: string }[];
    }
  | { kind: 'page'; status: number; error: string; description: string }
  /** The session's user can no longer sign in: the session ends, and the user signs in again. */
  | { kind: 'end-session'; next: Outcome };

export interface ResponseTarget {
  redirectUri: string;
  responseMode: ResponseMode;
  state?: string;
  /** The server's issuer: the `iss` of the response. */
  issuer: string;
}

export interface FlowInput {
  request: AuthorizationRequest;
  /** The sign-in this request may use: the session's, or one made during this request. */
  authentication: Authentication | undefined;
  /** Signed in during this request (a sessionToken or the sign-in page): prompt=login is satisfied. */
  signedInNow: boolean;
  /** The pending transaction this request continues, if any. */
  transaction?: Transaction;
  browserSha256: string;
  /** The user has just allowed the scopes the consent page showed. */
  consented?: boolean;
  requestId?: string;
}

const consentOf = (value: unknown): 'IMPLICIT' | 'REQUIRED' | 'FLEXIBLE' => {
  if (value === ScopeConsent.SCOPE_CONSENT_REQUIRED || value === 'REQUIRED') return 'REQUIRED';
  if (value === ScopeConsent.SCOPE_CONSENT_FLEXIBLE || value === 'FLEXIBLE') return 'FLEXIBLE';
  return 'IMPLICIT';
};

const serverGone: Outcome = {
  kind: 'page',
  status: 404,
  error: 'invalid_request',
  description: 'The authorization server was not found or is not active.',
};

export class AuthorizeFlow {
  constructor(private readonly deps: FlowDeps) {}

  target(request: AuthorizationRequest, config: ServerConfig): ResponseTarget {
    return {
      redirectUri: request.redirectUri,
      responseMode: request.responseMode,
      ...(request.state !== undefined ? { state: request.state } : {}),
      issuer: config.issuer,
    };
  }

  /**
   * The user said no on a page (consent declined, stayed signed in as someone else): access_denied
   * to the client, or the error page when its server went away meanwhile.
   */
  async deny(request: AuthorizationRequest, description: string): Promise<Outcome> {
    const config = await this.deps.directory.server(request.tenant, request.serverId);
    if (!config) return serverGone;
    return this.refuse(this.target(request, config), 'access_denied', description);
  }

  private refuse(target: ResponseTarget, error: string, description: string): Outcome {
    return { kind: 'respond', target, params: { error, error_description: description } };
  }

  async decide(input: FlowInput): Promise<Outcome> {
    const { request } = input;
    const { directory, store } = this.deps;
    const config = await directory.server(request.tenant, request.serverId);
    if (!config || config.server?.status === 'INACTIVE') return serverGone;
    const client = await directory.client(request.tenant, request.clientId);
    if (client?.status !== 'ACTIVE')
      return {
        kind: 'page',
        status: 400,
        error: 'invalid_client',
        description: 'The client is unknown or not active.',
      };
    const target = this.target(request, config);
    const promptNone = request.prompt.includes('none');
    const toLogin = async (): Promise<Outcome> =>
      promptNone
        ? this.refuse(target, 'login_required', 'The user is not signed in.')
        : { kind: 'login', transaction: await this.transactionFor(input) };

    // 1. Signed in, recently enough, and again when prompt=login asks for it.
    const authentication = input.authentication;
    const nowSeconds = Math.floor(this.deps.now() / 1000);
    if (
      !authentication ||
      (request.prompt.includes('login') && !input.signedInNow) ||
      (request.maxAge !== undefined && nowSeconds - authentication.authTime > request.maxAge)
    )
      return toLogin();

    // 2. The user may still sign in.
    const subject = await loadSubject(store, request.tenant, authentication.userId, authentication);
    if (!subject) return { kind: 'end-session', next: await toLogin() };

    // 3. Assigned to the client, directly or through a group.
    const groupIds = subject.user.groups.map((group) => group.id);
    if (!(await isAssigned(store, request.tenant, client.id, subject.user.id, groupIds)))
      return this.refuse(
        target,
        'access_denied',
        'User is not assigned to the client application.',
      );

    // 4. The server's policy allows each grant the response type stands for, and every scope.
    const grantTypes = [
      ...(request.responseType.includes('code') ? (['authorization_code'] as const) : []),
      ...(request.responseType.some((word) => word !== 'code') ? (['implicit'] as const) : []),
    ];
    let decision: PolicyDecision | undefined;
    for (const grantType of grantTypes) {
      const next = config.server
        ? evaluateAccessPolicy({
            policies: config.policies,
            rules: config.rules,
            serverScopes: config.scopes,
            clientId: client.id,
            grantType,
            user: { id: subject.user.id, groupIds },
            requestedScopes: request.scopes,
          })
        : orgServerDecision(request.scopes);
      if (!next.allowed) return this.refuse(target, next.error, next.description);
      decision ??= next;
    }
    if (!decision?.allowed) return this.refuse(target, 'access_denied', 'No grant was requested.');

    // 5. Consent (seed 001): asked for scopes whose consent is REQUIRED or FLEXIBLE, when the
    // request says prompt=consent or the client's consent_method is REQUIRED; remembered consent
    // counts unless prompt=consent.
    const askFor = decision.scopes.filter((name) => {
      const consent = consentOf(config.scopes.find((scope) => scope.name === name)?.consent);
      if (consent === 'IMPLICIT') return false;
      return request.prompt.includes('consent') || client.metadata.consentMethod === 'REQUIRED';
    });
    if (askFor.length > 0 && !input.consented) {
      const remembered = request.prompt.includes('consent')
        ? new Set<string>()
        : new Set(
            await store.smembers(
              grantKeys.consent(request.tenant, request.serverId, client.id, subject.user.id),
            ),
          );
      const pending = askFor.filter((name) => !remembered.has(name));
      if (pending.length > 0) {
        if (promptNone)
          return this.refuse(target, 'consent_required', 'The user must consent to the scopes.');
        return {
          kind: 'consent',
          transaction: await this.transactionFor(input),
          scopes: pending.map((name) => {
            const scope = config.scopes.find((s) => s.name === name);
            return {
              name,
              displayName: scope?.displayName || name,
              description: scope?.description ?? '',
            };
          }),
        };
      }
    }

    // 6. Issue.
    try {
      const params = await this.issue(input, decision, authentication);
      return { kind: 'respond', target, params };
    } catch (error) {
      if (error instanceof OAuthError && error.error !== 'server_error')
        return this.refuse(target, error.error, error.description);
      throw error;
    }
  }

  /** The scopes the consent page asks for, and the event that remembers the user's yes. */
  async recordConsent(input: FlowInput, scopes: readonly string[]): Promise<void> {
    const { request, authentication } = input;
    if (!authentication || scopes.length === 0) return;
    await appendGrantEvent(this.deps, request.tenant, authentication.userId, input.requestId, {
      type: 'gatehouse.events.v1.ConsentGranted',
      data: {
        serverId: request.serverId,
        clientId: request.clientId,
        userId: authentication.userId,
        scopes: [...scopes],
      },
    });
  }

  private async transactionFor(input: FlowInput): Promise<Transaction> {
    if (input.transaction) return input.transaction;
    return this.deps.flow.newTransaction(input.request.tenant, input.request, input.browserSha256);
  }

  private async issue(
    input: FlowInput,
    decision: PolicyDecision & { allowed: true },
    authentication: Authentication,
  ): Promise<Record<string, string>> {
    const { request } = input;
    const now = this.deps.now();
    const grantId = newGrantId();
    const params: Record<string, string> = {};
    let code: string | undefined;
    if (request.responseType.includes('code')) {
      code = newSecret();
      const record: CodeRecord = {
        grantId,
        serverId: request.serverId,
        clientId: request.clientId,
        userId: authentication.userId,
        redirectUri: request.redirectUri,
        scopes: decision.scopes,
        authTime: authentication.authTime,
        amr: authentication.amr,
        ...(request.nonce !== undefined ? { nonce: request.nonce } : {}),
        ...(request.codeChallenge !== undefined ? { codeChallenge: request.codeChallenge } : {}),
        // The binding's generations now: once any of them moves, the code is refused.
        bindingDigest: await currentBindingDigest(this.deps.store, {
          tenant: request.tenant,
          serverId: request.serverId,
          clientId: request.clientId,
          userId: authentication.userId,
        }),
        expiresAt: now + codeLifetimeMs,
        accessTokenLifetimeSeconds: decision.accessTokenLifetimeSeconds,
        refreshTokenLifetimeSeconds: decision.refreshTokenLifetimeSeconds,
        refreshTokenWindowSeconds: decision.refreshTokenWindowSeconds,
      };
      const codeSha256 = sha256Hex(code);
      // The event first: a code whose issue is not on record is never handed out.
      await appendGrantEvent(this.deps, request.tenant, grantId, input.requestId, {
        type: 'gatehouse.events.v1.AuthorizationCodeIssued',
        data: {
          grant: {
            serverId: request.serverId,
            clientId: request.clientId,
            userId: authentication.userId,
            scopes: decision.scopes,
            grantType: 'authorization_code',
            bindingDigest: record.bindingDigest,
            authTime: new Date(authentication.authTime * 1000),
            amr: authentication.amr,
          },
          codeSha256,
          expiresAt: new Date(record.expiresAt),
        },
      });
      await this.deps.store.set(
        grantKeys.code(request.tenant, codeSha256),
        JSON.stringify(record),
        {
          ttlMs: codeLifetimeMs,
        },
      );
      params.code = code;
    }
    const wantsToken = request.responseType.includes('token');
    const wantsIdToken = request.responseType.includes('id_token');
    if (wantsToken || wantsIdToken) {
      const minted = await this.deps.minter.mintTokens({
        tenant: request.tenant,
        serverId: request.serverId,
        clientId: request.clientId,
        userId: authentication.userId,
        scopes: decision.scopes.filter((scope) => scope !== 'offline_access'),
        accessToken: wantsToken,
        idToken: wantsIdToken,
        nonce: request.nonce ?? '',
        authTime: BigInt(authentication.authTime),
        amr: authentication.amr,
        code: code ?? '',
        grantId: code ? grantId : '',
        requestId: input.requestId ?? '',
      });
      if (wantsToken) {
        params.access_token = minted.accessToken;
        params.token_type = 'Bearer';
        params.expires_in = String(minted.expiresIn);
        params.scope = minted.scope;
      }
      if (wantsIdToken) params.id_token = minted.idToken;
    }
    return params;
  }
}
