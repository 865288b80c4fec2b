// Logout requests waiting for the user's yes (OpenID Connect RP-Initiated Logout 1.0, section 2: the
// OP asks the End-User whether to log out when the id_token_hint is not of the session's user). Kept
// beside the other flow state, not under `rm:`; bound to the browser that was asked, answered once.
import { randomBytes } from 'node:crypto';
import type { ProjectionStore } from '@gatehouse/projection-store';
import { newSecret } from './flow-state.js';

const logoutRequestKey = (tenant: string, id: string) => `fs:logout-request:${tenant}:${id}`;

export interface LogoutRequest {
  id: string;
  /** SHA-256 of the browser cookie of the browser that was asked: only it may answer. */
  browserSha256: string;
  /** The token the confirmation form must send back (CSRF). */
  csrf: string;
  /** The session's user when the question was asked (named on the page). */
  userId: string;
  /** Already checked against the client's sign-out redirect URIs. */
  postLogoutRedirectUri?: string;
  state?: string;
  /** epoch ms */
  expiresAt: number;
}

export class LogoutRequests {
  constructor(
    private readonly store: ProjectionStore,
    private readonly options: { now: () => number; lifetimeMs: number },
  ) {}

  async create(
    tenant: string,
    fields: Omit<LogoutRequest, 'id' | 'csrf' | 'expiresAt'>,
  ): Promise<LogoutRequest> {
    const request: LogoutRequest = {
      ...fields,
      id: randomBytes(16).toString('base64url'),
      csrf: newSecret(),
      expiresAt: this.options.now() + this.options.lifetimeMs,
    };
    await this.store.set(logoutRequestKey(tenant, request.id), JSON.stringify(request), {
      ttlMs: this.options.lifetimeMs,
    });
    return request;
  }

  async get(tenant: string, id: string | undefined): Promise<LogoutRequest | undefined> {
    if (!id || !/^[A-Za-z0-9_-]{22}$/.test(id)) return undefined;
    const value = await this.store.get(logoutRequestKey(tenant, id));
    if (!value) return undefined;
    const request = JSON.parse(value) as LogoutRequest;
    return request.expiresAt > this.options.now() ? request : undefined;
  }

  /** Takes a request to answer it: of concurrent answers, exactly one gets it. */
  async take(tenant: string, id: string): Promise<boolean> {
    return (await this.store.getDel(logoutRequestKey(tenant, id))) !== null;
  }
}
