// A sign-in attempt, from /api/v1/authn or the sign-in page: counted against its budgets, then its
// password checked in its turn in the password check queue.

import type { UserView } from '@gatehouse/directory';
import { OktaApiError, rateLimited } from '@gatehouse/http';
import type { ProjectionStore } from '@gatehouse/projection-store';
import type { Context } from 'koa';
import type { FlowState } from '../flow-state.js';
import { type HashQueue, HashQueueFullError } from '../hash-queue.js';
import type { PasswordWorkers } from '../password-workers.js';
import { signIn } from '../sign-in.js';
import type { SignInThrottle } from '../sign-in-throttle.js';

export interface SignInAttemptsDeps {
  store: ProjectionStore;
  flow: FlowState;
  hashes: HashQueue;
  passwordWorkers: PasswordWorkers;
  throttle: SignInThrottle;
  now: () => number;
}

export class SignInAttempts {
  constructor(private readonly deps: SignInAttemptsDeps) {}

  /**
   * Counts a sign-in attempt and checks the password in its turn: the result, or why there is
   * none — a spent budget (429), or no place in the password check queue (429 for a source that
   * holds its share, 503 when everyone's is full).
   */
  async attempt(ctx: Context, tenant: string, username: string, password: string) {
    const { store, flow, hashes, passwordWorkers, throttle, now } = this.deps;
    const admission = await throttle.admit(ctx.req, tenant, username);
    ctx.set(admission.headers);
    if (!admission.budget.allowed)
      return { refused: rateLimited(admission.budget, now()) } as const;
    try {
      return {
        result: await signIn(
          { store, flow, hashes, derive: passwordWorkers.derive },
          tenant,
          username,
          password,
          admission.source,
        ),
      } as const;
    } catch (error) {
      if (!(error instanceof HashQueueFullError)) throw error;
      return {
        refused:
          error.reason === 'source'
            ? rateLimited({ ...admission.budget, allowed: false, remaining: 0 }, now())
            : OktaApiError.unavailable(
                'Too many sign-ins are being checked right now; try again shortly.',
              ),
      } as const;
    }
  }

  /**
   * An attempt from a sign-in form (the sign-in page, the device page): the user signed in, or what
   * the form says instead and with which status (a spent budget's headers are set on the answer).
   */
  async fromForm(
    ctx: Context,
    tenant: string,
    username: string,
    password: string,
  ): Promise<{ user: UserView } | { message: string; status: number }> {
    if (!username || !password)
      return { message: 'Enter your username and password.', status: 400 };
    const attempt = await this.attempt(ctx, tenant, username, password);
    if (attempt.refused) {
      for (const [name, value] of Object.entries(attempt.refused.headers)) ctx.set(name, value);
      return {
        message: 'Too many sign-in attempts right now. Wait a minute, then try again.',
        status: attempt.refused.status,
      };
    }
    const { result } = attempt;
    if (result.outcome === 'failed')
      return { message: 'Sign-in failed: the username or the password is not right.', status: 401 };
    if (result.outcome === 'locked-out')
      return {
        message:
          'This account is locked after too many failed sign-ins. Try again later, or ask your administrator.',
        status: 403,
      };
    return { user: result.user };
  }
}
