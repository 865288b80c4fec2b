// The userinfo service as a library (SPEC section 5; seed 000 "Get User Information"): GET and POST
// {org}/oauth2/v1/userinfo and {org}/oauth2/{asId}/v1/userinfo. An access token is checked here,
// with the server's published keys and the one invalidation check every path shares (SPEC section
// 6): nothing is asked of another service. A DPoP-bound token (RFC 9449 section 7) comes under the
// DPoP scheme with a proof of its key made for this request and token; sent as a Bearer token it is
// refused, and so is an unbound token sent as DPoP.

import type { IncomingMessage } from 'node:http';
import { endpointsBase, type TenancyConfig } from '@gatehouse/directory';
import {
  dpopHeaderOf,
  dpopSigningAlgorithms,
  type VerifiedDpopProof,
  verifyDpopProof,
} from '@gatehouse/dpop';
import type { EventBus } from '@gatehouse/event-bus';
import { bindingDigestOfTokenId, grantIdOfTokenId, userinfoClaims } from '@gatehouse/grants';
import {
  type DirectReply,
  type DirectRequest,
  DirectRoutesKoa,
  type EdgeLog,
  InsufficientScope,
  InvalidDpopProof,
  InvalidRequest,
  InvalidToken,
  koaRoute,
  type LoggedRequest,
  logUnexpected,
  OAuthError,
  oauthErrorBody,
  probes,
  processEdgeLog,
  projectionLagCheck,
  type ReadinessChecks,
  requestId,
  resolveTenant,
  ServerError,
  TemporarilyUnavailable,
} from '@gatehouse/http';
import { TokenInvalidError, verifyJwt } from '@gatehouse/jwt';
import {
  checkToken,
  DirectoryCache,
  type FreshnessGuard,
  readModelsFresh,
  type SubjectReadResults,
  subjectFrom,
  subjectReads,
  subjectTokenQuery,
} from '@gatehouse/oauth-reads';
import { type ProjectionStore, ProjectionStoreUnavailableError } from '@gatehouse/projection-store';
import { type KeyRing, orgServerId } from '@gatehouse/signing-keys';
import { traceKoaRequests } from '@gatehouse/tracing';
import Router from '@koa/router';
import type Koa from 'koa';

export interface UserinfoDeps {
  bus: EventBus;
  store: ProjectionStore;
  /** The servers' verification keys; follows key events (KeyRing.follow). */
  ring: KeyRing;
  tenancy: TenancyConfig;
  now?: () => number;
  log?: EdgeLog;
  /** How far behind the read models may be before checks fail closed (503). Default 1000 ms. */
  maxProjectionLagMs?: number;
  /**
   * What else /readyz requires of this replica besides its own state: the process's connections
   * (Redis, Kafka, gRPC clients) and whether it has started, given by the service runtime.
   */
  readiness?: ReadinessChecks;
}

export interface UserinfoService {
  app: Koa;
  /** Follows the directory so that cached server settings stay true. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Seed 000's wording. */
const invalidToken = 'The access token is invalid';
const insufficientScope =
  'The access token must provide access to at least one of these scopes - profile, email, address or phone';
const userinfoScopes = ['profile', 'email', 'address', 'phone'];

/** RFC 6750 section 3.1: a request with no credentials at all gets a bare challenge, no error code. */
class NoBearerToken extends Error {}

/** RFC 6750 section 3: a refusal at this resource names its error in the Bearer challenge too. */
const quoted = (value: string) => value.replace(/["\\]/g, '');
const bearerChallenge = (error: OAuthError) =>
  `Bearer error="${error.error}", error_description="${quoted(error.description)}"`;
/** RFC 9449 section 7.1: the DPoP scheme's challenge names the proof algorithms taken. */
const dpopChallenge = (error: OAuthError) =>
  `DPoP error="${error.error}", error_description="${quoted(error.description)}", algs="${dpopSigningAlgorithms.join(' ')}"`;

type Scheme = 'Bearer' | 'DPoP';
/** A refusal of a request that used the DPoP scheme: answered 401 under the DPoP challenge. */
class DpopRefusal extends Error {
  constructor(readonly error: OAuthError) {
    super(error.message);
  }
}

export function createUserinfoService(deps: UserinfoDeps): UserinfoService {
  const log: EdgeLog = deps.log ?? processEdgeLog();
  const now = deps.now ?? Date.now;
  const directory = new DirectoryCache(deps.store, deps.tenancy);
  const guard: FreshnessGuard = { now, maxLagMs: deps.maxProjectionLagMs ?? 1000 };

  /**
   * The access token of the request and its scheme: the Authorization header (Bearer, or DPoP with
   * a DPoP proof), or (POST) the form's access_token, a Bearer token (RFC 6750 section 2.2).
   */
  const credentialsOf = async (
    req: IncomingMessage,
    method: string,
  ): Promise<{ token: string; scheme: Scheme } | undefined> => {
    const header = req.headers.authorization ?? '';
    let fromBody: string | undefined;
    if (
      method === 'POST' &&
      /^application\/x-www-form-urlencoded\s*(;|$)/i.test(req.headers['content-type'] ?? '')
    ) {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of req) {
        size += (chunk as Buffer).length;
        if (size > 16 * 1024) throw new InvalidRequest('The body is too large.');
        chunks.push(chunk as Buffer);
      }
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      if (form.getAll('access_token').length > 1)
        throw new InvalidRequest('The access_token parameter was sent more than once.');
      fromBody = form.get('access_token') || undefined;
    }
    if (header && fromBody !== undefined)
      throw new InvalidRequest('Send the access token in one place only (RFC 6750).');
    if (fromBody !== undefined) return { token: fromBody, scheme: 'Bearer' };
    if (!header) return undefined;
    const match = /^(Bearer|DPoP) +([A-Za-z0-9\-._~+/]+=*)$/i.exec(header);
    if (!match) throw new InvalidToken(invalidToken);
    return {
      token: match[2]!,
      scheme: match[1]!.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer',
    };
  };

  /**
   * RFC 9449 section 7: a token bound to a key (`cnf.jkt`) is taken only under the DPoP scheme with
   * a proof of that key for this request and token; an unbound token only as Bearer.
   */
  const checkBinding = async (
    { req, method, tenant }: DirectRequest,
    serverId: string,
    issuer: string,
    credentials: { token: string; scheme: Scheme },
    cnf: unknown,
  ): Promise<VerifiedDpopProof | undefined> => {
    const jkt =
      typeof cnf === 'object' && cnf !== null ? (cnf as { jkt?: unknown }).jkt : undefined;
    if (credentials.scheme === 'Bearer') {
      if (jkt !== undefined)
        throw new InvalidToken('The access token is DPoP-bound: send it as DPoP, with a proof.');
      return undefined;
    }
    if (typeof jkt !== 'string')
      throw new InvalidToken('The access token is not DPoP-bound: send it as Bearer.');
    const proof = dpopHeaderOf(req.headers);
    if (proof === undefined) throw new InvalidDpopProof('The DPoP proof JWT header is missing.');
    const verified = await verifyDpopProof(
      proof,
      {
        method,
        url: `${endpointsBase(issuer, serverId !== orgServerId)}/userinfo`,
        accessToken: credentials.token,
        now: now(),
      },
      { store: deps.store, tenant: tenant! },
    );
    if (verified.jkt !== jkt)
      throw new InvalidDpopProof(
        'The DPoP proof was not made with the key the access token is bound to.',
      );
    return verified;
  };

  const userinfo = async (request: DirectRequest, serverId: string): Promise<DirectReply> => {
    const credentials = await credentialsOf(request.req, request.method);
    // RFC 6750 section 3.1: no credentials, no error code.
    if (credentials === undefined) throw new NoBearerToken();
    if (credentials.scheme === 'Bearer') return answer(request, serverId, credentials);
    try {
      return await answer(request, serverId, credentials);
    } catch (error) {
      throw error instanceof OAuthError && error.status < 500 ? new DpopRefusal(error) : error;
    }
  };

  const answer = async (
    request: DirectRequest,
    serverId: string,
    credentials: { token: string; scheme: Scheme },
  ): Promise<DirectReply> => {
    const { tenant } = request;
    const { token } = credentials;
    if (!tenant || token.length > 16 * 1024) throw new InvalidToken(invalidToken);
    const config = await directory.server(tenant, serverId);
    if (!config || config.server?.status === 'INACTIVE') throw new InvalidToken(invalidToken);
    let claims: Record<string, unknown>;
    try {
      claims = verifyJwt(token, {
        issuer: config.issuer,
        audience: config.audience,
        keys: await deps.ring.verificationKeys(tenant, serverId),
        now,
      }).claims;
    } catch (error) {
      if (error instanceof TokenInvalidError) throw new InvalidToken(invalidToken);
      throw error;
    }
    const jti = typeof claims.jti === 'string' ? claims.jti : '';
    const grantId = grantIdOfTokenId(jti);
    const bindingDigest = bindingDigestOfTokenId(jti);
    const { uid, cid } = claims;
    // An access token of a user: client_credentials tokens have no user to tell about.
    if (
      !jti.startsWith('AT.') ||
      !grantId ||
      !bindingDigest ||
      typeof uid !== 'string' ||
      typeof cid !== 'string'
    )
      throw new InvalidToken(invalidToken);
    // A token issued by token exchange lives only as long as the token it was exchanged for.
    const subjectToken = subjectTokenQuery(tenant, uid, claims);
    if (subjectToken === false) throw new InvalidToken(invalidToken);
    // The check and the user's claims in one round trip (groups only when a claim needs them).
    const checking = checkToken(
      deps.store,
      {
        binding: { tenant, serverId, clientId: cid, userId: uid },
        bindingDigest,
        grantId,
        jti,
        ...(subjectToken ? { subjectToken } : {}),
      },
      guard,
      subjectReads(tenant, uid),
    );
    // A bearer token, as most are: nothing more. Otherwise, beside the check, the scheme and the
    // DPoP proof are checked and the proof taken (its replay cache written); their refusal comes
    // first: it holds whatever the read models say.
    let checked: Awaited<typeof checking>;
    if (credentials.scheme === 'Bearer' && claims.cnf === undefined) checked = await checking;
    else {
      const [checkSettled, binding] = await Promise.allSettled([
        checking,
        checkBinding(request, serverId, config.issuer, credentials, claims.cnf),
      ]);
      if (binding.status === 'rejected') throw binding.reason;
      if (checkSettled.status === 'rejected') throw checkSettled.reason;
      checked = checkSettled.value;
    }
    if (!checked.valid) throw new InvalidToken(invalidToken);
    const scopes = Array.isArray(claims.scp) ? (claims.scp as string[]) : [];
    if (!scopes.some((scope) => userinfoScopes.includes(scope)))
      throw new InsufficientScope(insufficientScope);
    const subject = await subjectFrom(
      deps.store,
      tenant,
      checked.extra as SubjectReadResults,
      { authTime: typeof claims.auth_time === 'number' ? claims.auth_time : 0, amr: [] },
      config.claims.some((claim) => claim.valueType === 'GROUPS'),
    );
    if (!subject) throw new InvalidToken(invalidToken);
    return {
      body: userinfoClaims({
        subject,
        scopes,
        server: config.server ? 'custom' : 'org',
        customClaims: config.claims,
      }),
    };
  };

  /**
   * What an error of a request becomes: a refusal with its Bearer challenge, a 503 that says to try
   * again, or (anything else) server_error with nothing of its detail.
   */
  const errorReply = (caught: unknown, request: LoggedRequest): Required<DirectReply> => {
    if (caught instanceof NoBearerToken)
      return { status: 401, headers: { 'WWW-Authenticate': 'Bearer' }, body: '' };
    // RFC 9449 section 7.1: a refusal under the DPoP scheme is a 401 (403 for insufficient scope)
    // with its DPoP challenge; a nonce it would need is in DPoP-Nonce.
    if (caught instanceof DpopRefusal)
      return {
        status: caught.error.status === 403 ? 403 : 401,
        headers: { ...caught.error.headers, 'WWW-Authenticate': dpopChallenge(caught.error) },
        body: oauthErrorBody(caught.error),
      };
    if (caught instanceof OAuthError && caught.status < 500)
      return {
        status: caught.status,
        headers: { ...caught.headers, 'WWW-Authenticate': bearerChallenge(caught) },
        body: oauthErrorBody(caught),
      };
    const known =
      caught instanceof ProjectionStoreUnavailableError
        ? new TemporarilyUnavailable('The server is temporarily unavailable; try again shortly.')
        : caught;
    if (known instanceof OAuthError && known.status === 503)
      return { status: 503, headers: known.headers, body: oauthErrorBody(known) };
    const errorId = logUnexpected(log, request, caught);
    const error = new ServerError(`An unexpected error occurred (${errorId})`);
    return { status: error.status, headers: error.headers, body: oauthErrorBody(error) };
  };

  const org = (request: DirectRequest) => userinfo(request, orgServerId);
  const custom = (request: DirectRequest) => userinfo(request, request.params.serverId!);
  const cacheRules = { 'Cache-Control': 'no-cache, no-store', Pragma: 'no-cache', Expires: '0' };
  const app = new DirectRoutesKoa({
    tenancy: deps.tenancy,
    headers: cacheRules,
    onError: errorReply,
    component: 'userinfo',
  });
  app.direct(['GET', 'POST'], '/oauth2/v1/userinfo', org);
  app.direct(['GET', 'POST'], '/oauth2/:serverId/v1/userinfo', custom);
  // The same handlers on koa, for what the direct path leaves to it (HEAD, unusual targets).
  const router = new Router();
  router.get('/oauth2/v1/userinfo', koaRoute(org));
  router.post('/oauth2/v1/userinfo', koaRoute(org));
  router.get('/oauth2/:serverId/v1/userinfo', koaRoute(custom));
  router.post('/oauth2/:serverId/v1/userinfo', koaRoute(custom));

  app.use(traceKoaRequests('userinfo'));
  app.use(requestId());
  app.use(resolveTenant(deps.tenancy));
  app.use(async (ctx, next) => {
    for (const [name, value] of Object.entries(cacheRules)) ctx.res.setHeader(name, value);
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        // Not a refusal of a token: no Bearer challenge.
        const notFound = new InvalidRequest('The requested path was not found', 404);
        ctx.status = notFound.status;
        ctx.body = oauthErrorBody(notFound);
      }
    } catch (caught) {
      const reply = errorReply(caught, ctx);
      ctx.status = reply.status;
      for (const [name, value] of Object.entries(reply.headers)) ctx.set(name, value);
      ctx.body = reply.body;
    }
  });
  app.use(
    probes({
      ...deps.readiness,
      projections: projectionLagCheck(
        async () => (await readModelsFresh(deps.store, guard)).lagMs,
        guard.maxLagMs,
      ),
    }),
  );
  app.use(router.routes());
  app.use(router.allowedMethods());

  return {
    app,
    start: () => directory.follow(deps.bus, 'userinfo'),
    stop: () => directory.close(),
  };
}

export { readUserinfoConfig, type UserinfoConfig } from './config.js';
