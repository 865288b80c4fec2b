// A durable append-only record log in one file: the storage of the embedded event bus.
//
// Frame: [u32 BE length][u32 BE CRC-32 of the payload][payload]. Appends are group-committed:
// every append waiting while a write is in flight goes out in the next single writev + fdatasync,
// and no append resolves, and no reader sees its records, before that fdatasync returned. So an
// acknowledged record survives a crash of the process (and of the machine, as far as the disk
// honours fdatasync). Opening the file checks every frame and cuts a torn tail, which can only
// hold records whose append never resolved.
import { type FileHandle, mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';

const HEADER = 8;
/** Upper bound of one record; a larger length field can only come from a torn or corrupt frame. */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;

interface PendingAppend {
  records: readonly Uint8Array[];
  resolve: (firstOffset: number) => void;
  reject: (error: unknown) => void;
}

export interface OpenedLog {
  log: AppendOnlyLog;
  /** Bytes cut from the end because they did not form whole, valid frames. */
  discardedBytes: number;
}

export class AppendOnlyLog {
  /** File position of each record; index = offset. Only fsynced records are listed. */
  private positions: number[] = [];
  private size: number;
  private queue: PendingAppend[] = [];
  private flushing: Promise<void> | null = null;
  private closed = false;
  private readonly listeners = new Set<() => void>();

  private constructor(
    private readonly fd: FileHandle,
    positions: number[],
    size: number,
    private readonly onBatch: ((records: number) => void) | undefined,
  ) {
    this.positions = positions;
    this.size = size;
  }

  /** `onBatch` is told the records of each batch written (each group commit), as it is written. */
  static async open(
    path: string,
    { onBatch }: { onBatch?: (records: number) => void } = {},
  ): Promise<OpenedLog> {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const created = await open(path, 'wx', 0o600).then(
      async (fd) => {
        await fd.close();
        await syncDirectory(dirname(path));
        return true;
      },
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'EEXIST') return false;
        throw error;
      },
    );
    const fd = await open(path, 'r+');
    try {
      const { positions, validSize, fileSize } = created
        ? { positions: [], validSize: 0, fileSize: 0 }
        : await scan(fd);
      if (validSize < fileSize) {
        await fd.truncate(validSize);
        await fd.datasync();
      }
      return {
        log: new AppendOnlyLog(fd, positions, validSize, onBatch),
        discardedBytes: fileSize - validSize,
      };
    } catch (error) {
      await fd.close();
      throw error;
    }
  }

  /** Offset the next record will get; also the number of readable records. */
  get length(): number {
    return this.positions.length;
  }

  /** Appends records and resolves with the offset of the first once they are on disk. */
  append(records: readonly Uint8Array[]): Promise<number> {
    if (this.closed) return Promise.reject(new Error('log is closed'));
    for (const record of records) {
      if (record.byteLength > MAX_RECORD_BYTES) {
        return Promise.reject(new RangeError(`record of ${record.byteLength} bytes is too large`));
      }
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ records, resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  /** Reads up to `max` records starting at `offset` (fewer at the end of the log). */
  async read(offset: number, max: number): Promise<Buffer[]> {
    const end = Math.min(this.positions.length, offset + max);
    if (offset >= end) return [];
    const from = this.positions[offset]!;
    const to = end < this.positions.length ? this.positions[end]! : this.size;
    const buffer = Buffer.allocUnsafe(to - from);
    const { bytesRead } = await this.fd.read(buffer, 0, buffer.length, from);
    if (bytesRead !== buffer.length) throw new Error('short read from the event log');
    const records: Buffer[] = [];
    for (let at = 0; at < buffer.length; ) {
      const length = buffer.readUInt32BE(at);
      records.push(buffer.subarray(at + HEADER, at + HEADER + length));
      at += HEADER + length;
    }
    return records;
  }

  /** Calls `listener` after each durable append, until the returned function is called. */
  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    while (this.flushing) await this.flushing;
    await this.fd.close();
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      const frames: Buffer[] = [];
      const newPositions: number[] = [];
      let at = this.size;
      for (const pending of batch) {
        for (const record of pending.records) {
          const header = Buffer.allocUnsafe(HEADER);
          header.writeUInt32BE(record.byteLength, 0);
          header.writeUInt32BE(crc32(record), 4);
          frames.push(header, Buffer.from(record.buffer, record.byteOffset, record.byteLength));
          newPositions.push(at);
          at += HEADER + record.byteLength;
        }
      }
      this.onBatch?.(newPositions.length);
      try {
        await writeAll(this.fd, frames, this.size);
        await this.fd.datasync();
      } catch (error) {
        // Nothing of this batch is acknowledged; cut whatever part of it reached the file so that
        // a later append does not land behind a torn frame.
        await this.fd.truncate(this.size).catch(() => {});
        for (const pending of batch) pending.reject(error);
        continue;
      }
      let first = this.positions.length;
      this.positions.push(...newPositions);
      this.size = at;
      for (const pending of batch) {
        pending.resolve(first);
        first += pending.records.length;
      }
      for (const listener of this.listeners) listener();
    }
    this.flushing = null;
  }
}

async function writeAll(fd: FileHandle, frames: Buffer[], position: number): Promise<void> {
  let remaining = frames;
  let at = position;
  while (remaining.length > 0) {
    const { bytesWritten } = await fd.writev(remaining, at);
    at += bytesWritten;
    let skip = bytesWritten;
    let index = 0;
    while (index < remaining.length && skip >= remaining[index]!.length) {
      skip -= remaining[index]!.length;
      index += 1;
    }
    remaining = remaining.slice(index);
    if (skip > 0 && remaining.length > 0) remaining[0] = remaining[0]!.subarray(skip);
  }
}

async function scan(
  fd: FileHandle,
): Promise<{ positions: number[]; validSize: number; fileSize: number }> {
  const { size: fileSize } = await fd.stat();
  const positions: number[] = [];
  const chunkSize = 4 * 1024 * 1024;
  let buffer = Buffer.alloc(0);
  let bufferStart = 0; // file position of buffer[0]
  let at = 0; // file position of the next frame
  let eof = false;
  for (;;) {
    if (!(await ensure(HEADER))) break;
    const inBuffer = at - bufferStart;
    const length = buffer.readUInt32BE(inBuffer);
    const checksum = buffer.readUInt32BE(inBuffer + 4);
    if (length > MAX_RECORD_BYTES) break;
    if (!(await ensure(HEADER + length))) break;
    const start = at - bufferStart + HEADER;
    if (crc32(buffer.subarray(start, start + length)) !== checksum) break;
    positions.push(at);
    at += HEADER + length;
  }
  return { positions, validSize: at, fileSize };

  // Makes sure `bytes` bytes from `at` are in `buffer`; false when the file ends first.
  async function ensure(bytes: number): Promise<boolean> {
    while (bufferStart + buffer.length < at + bytes) {
      if (eof) return false;
      const keep = buffer.subarray(at - bufferStart);
      const chunk = Buffer.allocUnsafe(Math.max(chunkSize, bytes));
      const { bytesRead } = await fd.read(chunk, 0, chunk.length, bufferStart + buffer.length);
      if (bytesRead === 0) eof = true;
      buffer = Buffer.concat([keep, chunk.subarray(0, bytesRead)]);
      bufferStart = at;
    }
    return true;
  }
}

export async function syncDirectory(path: string): Promise<void> {
  const fd = await open(path, 'r');
  try {
    await fd.sync();
  } finally {
    await fd.close();
  }
}
