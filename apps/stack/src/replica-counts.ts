// `pnpm stack --replicas token=2,userinfo=2` (or GATEHOUSE_STACK_REPLICAS): how many replicas of
// each service the stack runs behind its edge. `all=2` sets every service's count; a service named
// after it overrides it.
import { type ServiceName, services } from '@gatehouse/topology';

/** The most replicas of one service the stack starts: each is a Node process on this machine. */
export const maxReplicas = 16;

/** Parses `token=2,userinfo=2` (`source` names where it came from, for the error). */
export function parseReplicaCounts(
  text: string,
  source: string,
): Partial<Record<ServiceName, number>> {
  const names = services.map((spec) => spec.name);
  const counts: Partial<Record<ServiceName, number>> = {};
  let all: number | undefined;
  for (const part of text.split(',').map((p) => p.trim())) {
    if (part === '') continue;
    const match = /^([a-z]+)=(.*)$/.exec(part);
    if (!match)
      throw new Error(`${source}: ${JSON.stringify(part)} is not service=count (e.g. token=2)`);
    const [, name, value] = match as unknown as [string, string, string];
    if (name !== 'all' && !(names as string[]).includes(name))
      throw new Error(
        `${source}: no service ${JSON.stringify(name)} (one of ${names.join(', ')}, or all)`,
      );
    const count = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isInteger(count) || count < 1 || count > maxReplicas)
      throw new Error(
        `${source}: ${name}=${value} is not a count of replicas from 1 to ${maxReplicas}`,
      );
    if (name === 'all') all = count;
    else counts[name as ServiceName] = count;
  }
  if (all === undefined) return counts;
  return Object.fromEntries(names.map((name) => [name, counts[name] ?? all])) as Partial<
    Record<ServiceName, number>
  >;
}

/**
 * The counts from the command line (`--replicas X` or `--replicas=X`), else the environment's
 * GATEHOUSE_STACK_REPLICAS, else none (the table's: one each). Any other argument is an error.
 */
export function replicaCountsFrom(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Partial<Record<ServiceName, number>> {
  let given: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--replicas') {
      given = args[++i];
      if (given === undefined || given.startsWith('--'))
        throw new Error('--replicas: give service=count,... (e.g. --replicas token=2,userinfo=2)');
    } else if (arg.startsWith('--replicas=')) given = arg.slice('--replicas='.length);
    else if (arg === '--') continue;
    else
      throw new Error(`unknown argument ${JSON.stringify(arg)} (the stack takes --replicas only)`);
  }
  if (given !== undefined) return parseReplicaCounts(given, '--replicas');
  if (env.GATEHOUSE_STACK_REPLICAS)
    return parseReplicaCounts(env.GATEHOUSE_STACK_REPLICAS, 'GATEHOUSE_STACK_REPLICAS');
  return {};
}
