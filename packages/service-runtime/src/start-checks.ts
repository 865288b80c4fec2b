// What a service makes sure of before it says it listens: Redis answers and Kafka answers (with the
// topics as they must be), each within the start-up budget, or the process ends with one line that
// names the variable and what was tried (exit 78, EX_CONFIG: the address is most likely wrong).

/** A start-up failure the operator can mend: said in one line, exit 78. */
export class StartFailure extends Error {
  override readonly name = 'StartFailure';
}

/** Rejects with `failure()` when `work` has not settled within `ms`. */
export async function within<T>(ms: number, work: Promise<T>, failure: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(failure()), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Pings Redis until it answers or `budgetMs` is spent (Redis may be starting beside us), then says
 * which address failed and the last reason.
 */
export async function redisReachable(
  ping: () => Promise<unknown>,
  address: string,
  budgetMs: number,
): Promise<void> {
  const deadline = Date.now() + budgetMs;
  let last = 'no answer';
  for (let delay = 100; ; delay = Math.min(delay * 2, 1_000)) {
    try {
      await within(Math.max(1, Math.min(2_000, deadline - Date.now())), ping(), () =>
        Error('no answer'),
      );
      return;
    } catch (error) {
      // A try cut short by the budget says less than a refusal before it: keep the refusal.
      const reason = reasonOf(error);
      if (reason !== 'no answer' || last === 'no answer') last = reason;
    }
    if (Date.now() + delay >= deadline)
      throw new StartFailure(
        `cannot reach Redis at ${address} (GATEHOUSE_REDIS_URL) within ${budgetMs} ms: ${last}`,
      );
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

/**
 * Runs the first Kafka work of the start (the topics' check) within `budgetMs`; a failure names the
 * brokers and the last error the Kafka client met (`lastError`), not its retry log.
 */
export async function kafkaReachable(
  work: Promise<void>,
  brokers: readonly string[],
  budgetMs: number,
  lastError: () => string | undefined,
): Promise<void> {
  const failure = (reason: string) =>
    new StartFailure(
      `cannot reach Kafka at ${brokers.join(',')} (GATEHOUSE_KAFKA_BROKERS) within ${budgetMs} ms: ${reason}`,
    );
  try {
    await within(budgetMs, work, () => failure(lastError() ?? 'no answer'));
  } catch (error) {
    if (error instanceof StartFailure) throw error;
    if ((error as { name?: string }).name !== 'EventBusUnavailableError') throw error;
    throw failure(lastError() ?? reasonOf(error));
  }
}

/** A port that could not be bound (HTTP, or gRPC's bindAsync), said with the variable that sets it. */
export function portFailure(error: unknown, port: number, host: string, variable?: string): Error {
  // grpc-js gives no code, only "No address added ... [listen EADDRINUSE: ...]".
  const code =
    (error as NodeJS.ErrnoException).code ??
    /\b(EADDRINUSE|EACCES|EADDRNOTAVAIL)\b/.exec(String((error as Error).message))?.[1];
  const setting = variable ? ` (${variable})` : '';
  if (code === 'EADDRINUSE')
    return new StartFailure(`port ${port}${setting} on ${host} is already in use`);
  if (code === 'EACCES')
    return new StartFailure(`port ${port}${setting} on ${host} may not be bound by this user`);
  if (code === 'EADDRNOTAVAIL')
    return new StartFailure(
      `address ${host} (GATEHOUSE_BIND_ADDRESS) is not one of this machine's, for port ${port}${setting}`,
    );
  return error instanceof Error ? error : new Error(String(error));
}

function reasonOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
}
