// The baseline of `pnpm bench:token`, a child process pinned to the servers' core: node:crypto
// RS256 signatures of a ready-made signing input (a real access token's header and payload), back
// to back. Its CPU is the whole process's user + system time (getrusage, all threads), as /proc
// counts the servers'; it answers over IPC.
import { createPrivateKey, sign } from 'node:crypto';

export interface RawSignCommand {
  signingInput: string;
  privateKeyPem: string;
  warmup: number;
  count: number;
}

export interface RawSignResult {
  count: number;
  cpuMsPerSignature: number;
  perSecond: number;
}

function run({ signingInput, privateKeyPem, warmup, count }: RawSignCommand): RawSignResult {
  const key = createPrivateKey(privateKeyPem);
  const input = Buffer.from(signingInput);
  let sink = 0;
  for (let i = 0; i < warmup; i++) sink += sign('sha256', input, key).length;
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < count; i++) sink += sign('sha256', input, key).length;
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  if (sink !== (warmup + count) * 256) throw new Error('unexpected signature length');
  return {
    count,
    cpuMsPerSignature: (used.user + used.system) / 1000 / count,
    perSecond: (count / ms) * 1000,
  };
}

if (!process.send) throw new Error('raw-sign: start me with an IPC channel');
process.on('message', (command: RawSignCommand) => {
  try {
    process.send!(run(command));
  } catch (error) {
    process.send!({ error: String(error) });
  }
});
process.on('disconnect', () => process.exit(0));
