// Checking a username and password, for /api/v1/authn and the hosted sign-in page alike. Every way
// of failing (no such user, wrong password, a user who may not sign in) looks the same from outside
// and takes the same time (a password is always hashed); failures count toward a lockout per login,
// whether or not the login exists, so the lockout does not tell which logins do.
import {
  hashPassword,
  keys,
  type UserView,
  userViewOf,
  verifyPassword,
} from '@gatehouse/directory';
import type { ProjectionStore } from '@gatehouse/projection-store';
import type { FlowState } from './flow-state.js';
import type { HashQueue } from './hash-queue.js';

export type SignInResult =
  | { outcome: 'signed-in'; user: UserView }
  | { outcome: 'failed' }
  | { outcome: 'locked-out' };

/** Hashed once per process: what an unknown login's password is checked against. */
let decoy: Promise<string> | undefined;

/**
 * `source` is where the attempt comes from: its password check takes a place in `hashes` under it
 * (HashQueueFullError when there is none, before anything is counted).
 */
export async function signIn(
  deps: {
    store: ProjectionStore;
    flow: FlowState;
    hashes: HashQueue;
    /** Computes scrypt (the service's low-priority password workers). */
    derive: Parameters<typeof verifyPassword>[2];
  },
  tenant: string,
  username: string,
  password: string,
  source: string,
): Promise<SignInResult> {
  const login = username.trim();
  if (await deps.flow.lockedOut(tenant, login)) return { outcome: 'locked-out' };
  const userId = await deps.store.get(keys.userByLogin(tenant, login));
  const fields = userId ? await deps.store.hgetall(keys.user(tenant, userId)) : {};
  const user = userViewOf(fields);
  decoy ??= hashPassword('not a password of anyone');
  const phc = fields.passwordHash || (await decoy);
  const matches = await deps.hashes.run(source, () => verifyPassword(password, phc, deps.derive));
  if (user && matches && user.status === 'ACTIVE') {
    await deps.flow.signedIn(tenant, login);
    return { outcome: 'signed-in', user };
  }
  const locked = await deps.flow.failedSignIn(tenant, login);
  return locked ? { outcome: 'locked-out' } : { outcome: 'failed' };
}
