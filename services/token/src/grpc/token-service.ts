// gRPC TokenService (proto/gatehouse/token/v1): MintTokens for the authorize service's implicit and
// hybrid flows, ValidateToken for any service that must check a token. The same checks as the HTTP
// endpoints; OAuth refusals map to gRPC statuses here, in one place, with the OAuth error in the
// `oauth-error` trailer so a caller can answer its own client in OAuth's words. Served over mutual TLS
// only; MintTokens answers the authorize service alone (the CN of its certificate).
import {
  type MintTokensRequest,
  type MintTokensResponse,
  type TokenServiceServer,
  TokenServiceService,
  type ValidateTokenRequest,
  type ValidateTokenResponse,
} from '@gatehouse/contracts';
import { evaluateAccessPolicy, newGrantId, orgServerDecision } from '@gatehouse/grants';
import {
  InvalidClient,
  InvalidGrant,
  InvalidRequest,
  InvalidScope,
  OAuthError,
  UnauthorizedClient,
} from '@gatehouse/http';
import {
  callingService,
  type GrpcTls,
  grpcServerCredentials,
  timedImplementation,
} from '@gatehouse/internal-plane';
import type { DirectoryCache, FreshnessGuard } from '@gatehouse/oauth-reads';
import { loadSubject } from '@gatehouse/oauth-reads';
import type { ProjectionStore } from '@gatehouse/projection-store';
import type { KeyRing } from '@gatehouse/signing-keys';
import { traceGrpcCall } from '@gatehouse/tracing';
import {
  type handleUnaryCall,
  Metadata,
  Server,
  type ServerUnaryCall,
  type ServiceError,
  status,
} from '@grpc/grpc-js';
import { policyRefusal } from '../grants/grant-context.js';
import { inspectToken } from '../token-checks.js';
import type { TokenIssuer } from '../token-issuer.js';

const statusOf: Record<string, status> = {
  invalid_request: status.INVALID_ARGUMENT,
  invalid_scope: status.INVALID_ARGUMENT,
  access_denied: status.PERMISSION_DENIED,
  unauthorized_client: status.PERMISSION_DENIED,
  invalid_client: status.PERMISSION_DENIED,
  invalid_grant: status.FAILED_PRECONDITION,
  temporarily_unavailable: status.UNAVAILABLE,
};

/**
 * The services that may mint tokens: a user's tokens without the user's password are what the
 * authorize service asks for once it has authenticated the user; no other service has a reason to.
 */
export const mintingServices: ReadonlySet<string> = new Set(['authorize']);

/** A caller whose certificate is valid but names a service this method does not answer. */
class CallerNotAllowed extends Error {}

function unary<Req, Res>(
  answer: (request: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res>,
  log: (error: unknown) => void,
): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    traceGrpcCall('token', call, () => answer(call.request, call)).then(
      (response) => callback(null, response),
      (error: unknown) => {
        const metadata = new Metadata();
        if (error instanceof CallerNotAllowed) {
          callback({
            name: 'TokenServiceError',
            code: status.PERMISSION_DENIED,
            details: error.message,
            message: error.message,
            metadata,
          } as ServiceError);
          return;
        }
        if (error instanceof OAuthError) {
          metadata.set('oauth-error', error.error);
          callback({
            name: 'TokenServiceError',
            code: statusOf[error.error] ?? status.INTERNAL,
            details: error.description,
            message: error.description,
            metadata,
          } as ServiceError);
          return;
        }
        log(error);
        metadata.set('oauth-error', 'server_error');
        callback({
          name: 'TokenServiceError',
          code: status.INTERNAL,
          details: 'internal error',
          metadata,
        } as ServiceError);
      },
    );
  };
}

export function tokenServiceImplementation(deps: {
  store: ProjectionStore;
  directory: DirectoryCache;
  ring: KeyRing;
  issuer: TokenIssuer;
  now: () => number;
  guard: FreshnessGuard;
  log: (error: unknown) => void;
}): TokenServiceServer {
  const { store } = deps;
  return {
    mintTokens: unary<MintTokensRequest, MintTokensResponse>(async (request, call) => {
      const caller = callingService(call);
      if (!caller || !mintingServices.has(caller))
        throw new CallerNotAllowed(
          `MintTokens answers ${[...mintingServices].join(', ')} only, not ${caller ?? 'a caller without a certificate name'}`,
        );
      if (!request.tenant || !request.serverId || !request.clientId || !request.userId)
        throw new InvalidRequest('tenant, server_id, client_id and user_id are required');
      if (!request.accessToken && !request.idToken)
        throw new InvalidRequest('ask for an access token, an ID token, or both');
      const config = await deps.directory.server(request.tenant, request.serverId);
      if (!config || config.server?.status === 'INACTIVE')
        throw new InvalidRequest('The authorization server was not found.');
      const client = await deps.directory.client(request.tenant, request.clientId);
      if (client?.status !== 'ACTIVE') throw new InvalidClient('The client is not active.');
      if (!client.metadata.grantTypes.includes('implicit') && !request.grantId)
        throw new UnauthorizedClient('The client is not allowed the implicit grant.');
      if (request.idToken && !request.scopes.includes('openid'))
        throw new InvalidScope('An ID token needs the openid scope.');
      const subject = await loadSubject(store, request.tenant, request.userId, {
        authTime: Number(request.authTime),
        amr: request.amr,
      });
      if (!subject) throw new InvalidGrant('The user is not active.');
      const decision = config.server
        ? evaluateAccessPolicy({
            policies: config.policies,
            rules: config.rules,
            serverScopes: config.scopes,
            clientId: client.id,
            grantType: 'implicit',
            user: { id: subject.user.id, groupIds: subject.user.groups.map((group) => group.id) },
            requestedScopes: request.scopes,
          })
        : orgServerDecision(request.scopes);
      if (!decision.allowed) throw policyRefusal(decision);
      const grantId = request.grantId || newGrantId();
      const issued = await deps.issuer.issue({
        config,
        client,
        grantId,
        grantType: 'implicit',
        // offline_access is ignored without a code (seed 001): no refresh token here.
        scopes: decision.scopes.filter((scope) => scope !== 'offline_access'),
        subject,
        lifetimes: {
          accessTokenSeconds: decision.accessTokenLifetimeSeconds,
          refreshTokenSeconds: decision.refreshTokenLifetimeSeconds,
          refreshWindowSeconds: decision.refreshTokenWindowSeconds,
        },
        accessToken: request.accessToken,
        ...(request.idToken
          ? {
              idToken: {
                ...(request.nonce ? { nonce: request.nonce } : {}),
                ...(request.code ? { code: request.code } : {}),
              },
            }
          : {}),
        causationId: request.requestId,
      });
      return {
        accessToken: issued.access_token,
        expiresIn: issued.expires_in,
        idToken: issued.id_token ?? '',
        scope: issued.scope,
        grantId,
      };
    }, deps.log),

    validateToken: unary<ValidateTokenRequest, ValidateTokenResponse>(async (request) => {
      const inactive: ValidateTokenResponse = {
        active: false,
        tokenType: '',
        clientId: '',
        userId: '',
        scopes: [],
        expiresAt: 0n,
        claimsJson: '',
      };
      if (!request.tenant || !request.serverId || !request.token) return inactive;
      const config = await deps.directory.server(request.tenant, request.serverId);
      if (!config || config.server?.status === 'INACTIVE') return inactive;
      const found = await inspectToken(request.token, config, request.clientId, deps);
      if (!found || found.kind === 'refresh_token') return inactive;
      if (found.kind === 'id_token' && found.clientId !== request.clientId) return inactive;
      const { claims } = found;
      return {
        active: true,
        tokenType: found.kind,
        clientId: found.clientId,
        userId:
          typeof claims.uid === 'string'
            ? claims.uid
            : found.kind === 'id_token'
              ? String(claims.sub)
              : '',
        scopes: Array.isArray(claims.scp) ? (claims.scp as string[]) : [],
        expiresAt: BigInt(claims.exp as number),
        claimsJson: JSON.stringify(claims),
      };
    }, deps.log),
  };
}

/**
 * Serves TokenService on `address` (host:port; port 0 picks one) over mutual TLS with `tls`: a
 * caller without a certificate of the same CA is refused in the handshake. Resolves with the port.
 */
export async function serveTokenService(
  implementation: TokenServiceServer,
  address: string,
  tls: GrpcTls,
): Promise<{ port: number; close: () => Promise<void> }> {
  const server = new Server();
  server.addService(TokenServiceService, timedImplementation(TokenServiceService, implementation));
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(address, grpcServerCredentials(tls), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return { port, close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())) };
}
