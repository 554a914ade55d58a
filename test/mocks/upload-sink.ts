/**
 * The receiving end of a file upload for the provider mocks: counts the bytes without
 * keeping them (a 300 MB upload costs the test nothing), reads at a set pace when asked
 * (a slow upstream, for backpressure), and records how each upload ended.
 */
import { createHash, type Hash } from 'node:crypto';
import type http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

export interface SunkUpload {
  headers: http.IncomingHttpHeaders;
  /** Bytes received so far. */
  bytes: number;
  /** The body arrived to its end. */
  complete: boolean;
  /** The sender went away before the end (the gateway cancelled the upstream request). */
  aborted: boolean;
  /** Resolves once the body ended or was cut. */
  done: Promise<void>;
  /** The body's sha256 (hex) once it ended, with {@link UploadSink.hashing}. */
  sha256?: string;
}

export class UploadSink {
  readonly uploads: SunkUpload[] = [];
  /** Bytes per second read; undefined reads as fast as they come. */
  bytesPerSecond: number | undefined;
  /** Wait this long before reading a body (an upstream that stops taking bytes for a while). */
  startDelayMs = 0;
  /** Hash each body (sha256) to check it arrived intact. */
  hashing = false;

  /** Count `req`'s body, then answer 200 with `answer(bytes)` as JSON. */
  async receive(req: http.IncomingMessage, res: http.ServerResponse, answer: (bytes: number) => unknown): Promise<void> {
    let ended!: () => void;
    const upload: SunkUpload = { headers: req.headers, bytes: 0, complete: false, aborted: false, done: new Promise<void>((r) => (ended = r)) };
    this.uploads.push(upload);
    const hash: Hash | undefined = this.hashing ? createHash('sha256') : undefined;
    try {
      if (this.startDelayMs > 0) await sleep(this.startDelayMs);
      for await (const chunk of req as AsyncIterable<Buffer>) {
        upload.bytes += chunk.length;
        hash?.update(chunk);
        if (this.bytesPerSecond !== undefined) await sleep((chunk.length / this.bytesPerSecond) * 1000);
      }
      upload.complete = true;
      if (hash) upload.sha256 = hash.digest('hex');
    } catch {
      upload.aborted = true;
    }
    ended();
    if (!upload.complete) return;
    const text = JSON.stringify(answer(upload.bytes));
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  get last(): SunkUpload | undefined {
    return this.uploads.at(-1);
  }
}
