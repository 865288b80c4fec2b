// Issues the tokens of a grant: builds their claims (seed 001), signs them with the server's active
// key from the local key ring, appends TokensIssued to gatehouse.grants, and only then writes the
// family's refresh token state and answers. No event, no token: when the log is unavailable the
// caller answers temporarily_unavailable.
import { randomBytes } from 'node:crypto';
import type { DeviceSecretIssued, GrantContext, RefreshTokenIssued } from '@gatehouse/contracts';
import type { ClientView } from '@gatehouse/directory';
import { type EventBus, EventBusUnavailableError } from '@gatehouse/event-bus';
import { newEnvelope } from '@gatehouse/events';
import {
  accessTokenClaims,
  ClaimsError,
  deviceSecretWrites,
  encodeGrantEvent,
  type GrantEvent,
  idTokenClaims,
  newTokenId,
  refreshWrites,
  type SubjectTokenLink,
  sha256Hex,
  type TokenSubject,
  topicOfGrantEvent,
} from '@gatehouse/grants';
import { InvalidRequest, ServerError, TemporarilyUnavailable } from '@gatehouse/http';
import { signJwt } from '@gatehouse/jwt';
import { type GatehouseMetrics, processMetrics } from '@gatehouse/metrics';
import { currentBindingDigest, type ServerConfig } from '@gatehouse/oauth-reads';
import type { ProjectionStore } from '@gatehouse/projection-store';
import { type KeyRing, NoSigningKeyError } from '@gatehouse/signing-keys';

export interface Lifetimes {
  accessTokenSeconds: number;
  /** null: the refresh family never ends by age. */
  refreshTokenSeconds: number | null;
  refreshWindowSeconds: number;
}

/** The lifetimes a policy decision, a code or a refresh family carries, as an issue takes them. */
export function lifetimesOf(source: {
  accessTokenLifetimeSeconds: number;
  refreshTokenLifetimeSeconds: number | null;
  refreshTokenWindowSeconds: number;
}): Lifetimes {
  return {
    accessTokenSeconds: source.accessTokenLifetimeSeconds,
    refreshTokenSeconds: source.refreshTokenLifetimeSeconds,
    refreshWindowSeconds: source.refreshTokenWindowSeconds,
  };
}

export interface IssueRequest {
  config: ServerConfig;
  client: ClientView;
  grantId: string;
  grantType:
    | 'authorization_code'
    | 'refresh_token'
    | 'client_credentials'
    | 'implicit'
    | 'urn:ietf:params:oauth:grant-type:token-exchange'
    | 'urn:ietf:params:oauth:grant-type:device_code';
  scopes: string[];
  subject?: TokenSubject;
  lifetimes: Lifetimes;
  /** Issue an ID token (user grants with openid); `code` issued with it gives its c_hash. */
  idToken?: { nonce?: string; code?: string };
  /** False for the implicit flow's `id_token` alone. Default true. */
  accessToken?: boolean;
  /**
   * Issue a refresh token; `replaces` the one it rotates, `familyExpiresAt` (epoch ms) when rotating,
   * `sequence` the family's version after this issue (1 for its first token; the default).
   */
  refreshToken?: {
    replacesSha256?: string;
    familyExpiresAt?: number | null;
    sequence?: number;
    /** RFC 9449 section 5: the DPoP key a public client's refresh token is bound to. */
    dpopJkt?: string;
  };
  /**
   * RFC 9449: the thumbprint of the key of the request's DPoP proof; the access token is bound to
   * it (`cnf.jkt`) and answered as token_type DPoP.
   */
  dpopJkt?: string;
  /**
   * OpenID Connect Native SSO: `issue` a device secret with these tokens (the device_sso scope was
   * granted), or the SHA-256 (hex) of the family's, so that its ID tokens carry `sid` and `ds_hash`.
   */
  deviceSecret?: 'issue' | { sha256: string };
  /** Token exchange (RFC 8693): the token the access token is issued for, which it dies with. */
  subjectToken?: SubjectTokenLink;
  /** Events of the grant appended in the same batch, before TokensIssued (a code's redemption). */
  preceding?: GrantEvent[];
  /**
   * The grant's binding digest, when the caller has just checked it (a code's, a refresh family's);
   * otherwise it is read now, before anything is signed.
   */
  bindingDigest?: string;
  causationId: string;
}

export interface IssuedTokens {
  token_type: 'Bearer' | 'DPoP';
  expires_in: number;
  /** Empty when no access token was asked for. */
  access_token: string;
  scope: string;
  refresh_token?: string;
  id_token?: string;
  /** RFC 8693 section 2.2.1: what a token exchange issued. */
  issued_token_type?: string;
  /** OpenID Connect Native SSO: the session's device secret, for the device's other apps. */
  device_secret?: string;
}

const randomId = (bytes: number) => randomBytes(bytes).toString('base64url');

export class TokenIssuer {
  private readonly issued: GatehouseMetrics['tokensIssued'];

  constructor(
    private readonly deps: {
      bus: EventBus;
      store: ProjectionStore;
      ring: KeyRing;
      now: () => number;
      /** Where issued tokens are counted (gatehouse_tokens_issued_total). Default the process's. */
      metrics?: GatehouseMetrics;
    },
  ) {
    this.issued = (deps.metrics ?? processMetrics()).tokensIssued;
  }

  async issue(request: IssueRequest): Promise<IssuedTokens> {
    try {
      const tokens = await this.mint(request);
      // By grant type and server kind only: never the tenant, client or user (unbounded).
      this.issued.inc({
        grant_type: request.grantType,
        server_kind: request.config.serverId === 'org' ? 'org' : 'custom',
      });
      return tokens;
    } catch (error) {
      // A claim definition the user's data cannot satisfy (too many groups): the request fails.
      if (error instanceof ClaimsError)
        throw error.error === 'server_error'
          ? new ServerError(error.description)
          : new InvalidRequest(error.description);
      throw error;
    }
  }

  private async mint(request: IssueRequest): Promise<IssuedTokens> {
    const { config, client, subject, lifetimes } = request;
    const nowMs = this.deps.now();
    const now = Math.floor(nowMs / 1000);
    const [key, bindingDigest] = await Promise.all([
      this.signingKey(config),
      request.bindingDigest ??
        currentBindingDigest(this.deps.store, {
          tenant: config.tenant,
          serverId: config.serverId,
          clientId: client.id,
          ...(subject ? { userId: subject.user.id } : {}),
        }),
    ]);
    const withAccessToken = request.accessToken !== false;
    const accessJti = withAccessToken ? newTokenId('AT', request.grantId, bindingDigest) : '';
    const accessToken = withAccessToken
      ? signJwt(
          accessTokenClaims({
            issuer: config.issuer,
            audience: config.audience,
            clientId: client.id,
            scopes: request.scopes,
            ...(subject ? { subject } : {}),
            now,
            lifetimeSeconds: lifetimes.accessTokenSeconds,
            jti: accessJti,
            customClaims: config.claims,
            ...(request.dpopJkt ? { dpopJkt: request.dpopJkt } : {}),
            ...(request.subjectToken ? { subjectToken: request.subjectToken } : {}),
          }),
          key,
        )
      : '';
    // Native SSO: a new device secret lives as long as the refresh family would.
    let deviceSecret: { secret?: string; issued?: DeviceSecretIssued; sha256: string } | undefined;
    if (request.deviceSecret === 'issue') {
      const secret = randomId(32);
      const lifetimeMs = (lifetimes.refreshTokenSeconds ?? 90 * 24 * 3600) * 1000;
      deviceSecret = {
        secret,
        sha256: sha256Hex(secret),
        issued: {
          deviceSecretSha256: sha256Hex(secret),
          expiresAt: new Date(nowMs + lifetimeMs),
        },
      };
    } else if (request.deviceSecret) deviceSecret = { sha256: request.deviceSecret.sha256 };
    let idJti = '';
    let idToken: string | undefined;
    if (request.idToken && subject) {
      idJti = newTokenId('ID', request.grantId, bindingDigest);
      idToken = signJwt(
        idTokenClaims({
          issuer: config.issuer,
          clientId: client.id,
          subject,
          scopes: request.scopes,
          now,
          jti: idJti,
          idp: config.tenant,
          ...(request.idToken.nonce ? { nonce: request.idToken.nonce } : {}),
          ...(withAccessToken ? { accessToken } : {}),
          ...(request.idToken.code ? { code: request.idToken.code } : {}),
          server: config.server ? 'custom' : 'org',
          customClaims: config.claims,
          ...(deviceSecret
            ? { session: { sid: request.grantId, deviceSecretSha256: deviceSecret.sha256 } }
            : {}),
        }),
        key,
      );
    }
    const grant: GrantContext = {
      serverId: config.serverId,
      clientId: client.id,
      userId: subject?.user.id ?? '',
      scopes: request.scopes,
      grantType: request.grantType,
      bindingDigest,
      ...(subject
        ? { authTime: new Date(subject.authTime * 1000), amr: [...subject.amr] }
        : { amr: [] }),
    };
    let refreshToken: string | undefined;
    let refreshIssued: RefreshTokenIssued | undefined;
    if (request.refreshToken) {
      refreshToken = randomId(32);
      const familyExpiresAt =
        request.refreshToken.familyExpiresAt !== undefined
          ? request.refreshToken.familyExpiresAt
          : lifetimes.refreshTokenSeconds === null
            ? null
            : nowMs + lifetimes.refreshTokenSeconds * 1000;
      refreshIssued = {
        refreshTokenSha256: sha256Hex(refreshToken),
        familyExpiresAt: new Date(familyExpiresAt ?? 0),
        idleExpiresAt: new Date(nowMs + lifetimes.refreshWindowSeconds * 1000),
        replacesSha256: request.refreshToken.replacesSha256 ?? '',
        accessTokenLifetimeSeconds: lifetimes.accessTokenSeconds,
        refreshTokenLifetimeSeconds: lifetimes.refreshTokenSeconds ?? 0,
        refreshTokenWindowSeconds: lifetimes.refreshWindowSeconds,
        dpopJkt: request.refreshToken.dpopJkt ?? '',
        deviceSecretSha256: deviceSecret?.sha256 ?? '',
      };
    }
    const sequence = request.refreshToken?.sequence ?? 1;
    await this.appendVersioned(
      config.tenant,
      request.grantId,
      request.causationId,
      refreshIssued ? sequence : 0,
      ...(request.preceding ?? []),
      {
        type: 'gatehouse.events.v1.TokensIssued',
        data: {
          grant,
          accessTokenJti: accessJti,
          accessTokenExpiresAt: new Date((now + lifetimes.accessTokenSeconds) * 1000),
          idTokenJti: idJti,
          ...(refreshIssued ? { refreshToken: refreshIssued } : {}),
          dpopJkt: withAccessToken ? (request.dpopJkt ?? '') : '',
          ...(deviceSecret?.issued ? { deviceSecret: deviceSecret.issued } : {}),
        },
      },
    );
    const flowState = [
      ...(refreshIssued
        ? refreshWrites(config.tenant, request.grantId, grant, refreshIssued, sequence, nowMs)
        : []),
      ...(deviceSecret?.issued
        ? deviceSecretWrites(config.tenant, request.grantId, grant, deviceSecret.issued, nowMs)
        : []),
    ];
    if (flowState.length > 0) await this.deps.store.write(flowState);
    return {
      token_type: request.dpopJkt && withAccessToken ? 'DPoP' : 'Bearer',
      expires_in: withAccessToken ? lifetimes.accessTokenSeconds : 0,
      access_token: accessToken,
      scope: request.scopes.join(' '),
      ...(refreshToken ? { refresh_token: refreshToken } : {}),
      ...(idToken ? { id_token: idToken } : {}),
      ...(deviceSecret?.secret ? { device_secret: deviceSecret.secret } : {}),
    };
  }

  /**
   * Appends grant or revocation events of one grant, in order and all to one topic (one batch); the
   * log being unavailable is the caller's 503.
   */
  append(tenant: string, grantId: string, causationId: string, ...events: GrantEvent[]) {
    return this.appendVersioned(tenant, grantId, causationId, 0, ...events);
  }

  /** As `append`, with the refresh family's sequence as the events' aggregate version. */
  private async appendVersioned(
    tenant: string,
    grantId: string,
    causationId: string,
    aggregateVersion: number,
    ...events: GrantEvent[]
  ): Promise<void> {
    const topic = topicOfGrantEvent(events[0]!);
    if (events.some((event) => topicOfGrantEvent(event) !== topic))
      throw new Error('events of one append go to one topic');
    try {
      await this.deps.bus.publish(
        topic,
        events.map((event) =>
          newEnvelope(
            {
              type: event.type,
              tenant,
              aggregateId: grantId,
              data: encodeGrantEvent(event),
              causationId,
              aggregateVersion,
            },
            { now: () => new Date(this.deps.now()) },
          ),
        ),
      );
    } catch (error) {
      if (error instanceof EventBusUnavailableError)
        throw new TemporarilyUnavailable(
          'The authorization server cannot record the grant right now; try again shortly.',
        );
      throw error;
    }
  }

  private async signingKey(config: ServerConfig) {
    try {
      return await this.deps.ring.signingKey(config.tenant, config.serverId);
    } catch (error) {
      if (error instanceof NoSigningKeyError)
        throw new TemporarilyUnavailable(
          'The authorization server has no signing key yet; try again shortly.',
        );
      throw error;
    }
  }
}
