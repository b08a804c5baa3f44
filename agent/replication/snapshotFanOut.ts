/**
 * One snapshot stream, several consumers: the chunks of a full-sync snapshot are written to every replica
 * socket (or a dump file) attached to it, in order, the same Buffer queued on each.
 *
 * Backpressure: the next chunk is pulled from the snapshot only when every consumer has less than
 * `highWaterBytes` queued, so the slowest consumer sets the pace and the master never holds more than about
 * one high-water mark per consumer. A consumer can be detached at any time (its replica was dropped); when the
 * last one goes, the snapshot is abandoned (`return()`), which releases what it holds.
 *
 * Fairness: the loop yields to the event loop (setImmediate) after every `yieldEveryBytes`, so that a transfer
 * to fast local consumers, which never hits the high-water mark, still lets clients be served in between.
 * Pacing against client load is the snapshot stream's own (persistence/snapshotPacing.ts).
 */
import type { Writable } from 'node:stream';
import type { SnapshotStream } from './snapshotSource';

/** A consumer is any writable byte sink: a net.Socket or an fs.WriteStream. */
export type FanOutSink = Pick<Writable, 'write' | 'writableLength' | 'once' | 'removeListener' | 'destroyed'>;

export interface FanOutOptions {
  /** Queue size per consumer above which the next chunk waits. */
  highWaterBytes: number;
  /** Bytes written between two yields to the event loop. */
  yieldEveryBytes: number;
  /** Called after each chunk with the running total. */
  onProgress?: (bytes: number) => void;
}

export const DEFAULT_FAN_OUT_OPTIONS: FanOutOptions = {
  highWaterBytes: 1024 * 1024,
  yieldEveryBytes: 256 * 1024,
};

export type FanOutResult = { completed: true; bytes: number } | { completed: false; bytes: number };

export class SnapshotFanOut {
  private readonly sinks = new Set<FanOutSink>();
  /** Wakes the loop when it waits for a consumer that gets detached. */
  private wake: (() => void) | null = null;
  private bytes = 0;

  constructor(
    private readonly source: SnapshotStream,
    private readonly options: FanOutOptions = DEFAULT_FAN_OUT_OPTIONS,
  ) {}

  get consumers(): number {
    return this.sinks.size;
  }

  get bytesSent(): number {
    return this.bytes;
  }

  add(sink: FanOutSink): void {
    this.sinks.add(sink);
  }

  remove(sink: FanOutSink): void {
    if (this.sinks.delete(sink)) this.wake?.();
  }

  /** Streams the whole snapshot; resolves when it ended (completed) or every consumer was detached. */
  async run(): Promise<FanOutResult> {
    let sinceYield = 0;
    for (;;) {
      await this.waitUntilWritable();
      if (this.sinks.size === 0) {
        await this.source.return?.();
        return { completed: false, bytes: this.bytes };
      }
      const r = await this.source.next();
      if (r.done) return { completed: true, bytes: this.bytes };
      const chunk = r.value;
      if (chunk.length === 0) continue;
      for (const sink of this.sinks) sink.write(chunk);
      this.bytes += chunk.length;
      this.options.onProgress?.(this.bytes);
      sinceYield += chunk.length;
      if (sinceYield >= this.options.yieldEveryBytes) {
        sinceYield = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
  }

  private async waitUntilWritable(): Promise<void> {
    for (;;) {
      let blocked: FanOutSink | undefined;
      for (const sink of this.sinks) {
        if (sink.destroyed) {
          this.sinks.delete(sink);
          continue;
        }
        if (sink.writableLength > this.options.highWaterBytes) {
          blocked = sink;
          break;
        }
      }
      if (blocked === undefined) return;
      const sink = blocked;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          sink.removeListener('drain', done);
          sink.removeListener('close', done);
          this.wake = null;
          resolve();
        };
        this.wake = done;
        sink.once('drain', done);
        sink.once('close', done);
      });
    }
  }
}
