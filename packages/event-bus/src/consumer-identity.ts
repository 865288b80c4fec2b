// Who this process is to Kafka's consumer groups. Groups that every process needs for itself (its
// caches follow every event) are named after the process, not drawn at random: a random name per
// start left one more group behind at every restart (24 after a few restarts of the stack).
import { hostname } from 'node:os';
import { ConfigError, type Environment } from '@gatehouse/config';

const replicaIdPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * GATEHOUSE_REPLICA_ID: the name of this replica among its service's, stable across its restarts
 * (a StatefulSet's pod name, `token-2` in `pnpm stack`). Unset: the host name and process id — in
 * a container (pid 1) stable across its restarts; on a shared host unique, and its groups are
 * deleted when it stops cleanly.
 */
export function replicaId(env: Environment = process.env): string {
  const given = env.GATEHOUSE_REPLICA_ID;
  if (given === undefined || given === '')
    return `${hostname().replace(/[^A-Za-z0-9._-]/g, '-')}-${process.pid}`;
  if (!replicaIdPattern.test(given))
    throw new ConfigError(
      'GATEHOUSE_REPLICA_ID',
      `must be 1-64 letters, digits, dots, dashes or underscores, starting with a letter or digit, not ${JSON.stringify(given)}`,
    );
  return given;
}

const followers = new Map<string, number>();

/**
 * The group id of a process's own follower named `name`: `<name>.<replica>.<n>`, n counting the
 * followers of that name this process opened (one process may hold several, as tests do), so a
 * restarted replica that opens them in the same order takes the same ids again.
 */
export function followerGroupId(name: string, env: Environment = process.env): string {
  const n = (followers.get(name) ?? 0) + 1;
  followers.set(name, n);
  return `${name}.${replicaId(env)}.${n}`;
}
