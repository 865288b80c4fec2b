// Who a token is about: the user as the read models have them, and how they signed in.
import type { UserProfile } from '@gatehouse/contracts';

export interface TokenUser {
  id: string;
  profile: UserProfile;
  login: string;
  /** ISO 8601: when the profile last changed (updated_at). */
  lastUpdated: string;
  /** The user's groups, for groups claims (by name). */
  groups: readonly { id: string; name: string }[];
}

/** Absent for client_credentials, whose tokens are about the client. */
export interface TokenSubject {
  user: TokenUser;
  /** Epoch seconds. */
  authTime: number;
  /** e.g. ['pwd'] */
  amr: readonly string[];
}
