import type { Socket } from 'node:net';
import { Packr } from 'msgpackr';
import type { InputContext } from '../../core/plugin.js';
import { ForwardFrameDecoder, type ForwardFrame, type ForwardFrameDecoderOptions } from './decoder.js';
import { ForwardProtocolError } from './errors.js';
import type { ForwardMetrics } from './metrics.js';

const packr = new Packr({ useRecords: false });

/** What a connection needs from its server. */
export interface ForwardConnectionHost {
  readonly ctx: InputContext;
  readonly metrics: ForwardMetrics;
  readonly decoderOptions: ForwardFrameDecoderOptions;
  /** Backpressure: true while the pipeline asked the input to stop reading. */
  readonly paused: boolean;
  closed(connection: ForwardConnection): void;
}

/**
 * One client connection. Frames are handled strictly in order, one at a time: the socket is paused
 * while a frame's emit is pending, which bounds what a connection holds to one frame plus one read,
 * and a chunk is acked only once its emit resolved, so acks go out in the order chunks came in.
 */
export class ForwardConnection {
  readonly remote: string;
  private readonly decoder: ForwardFrameDecoder;
  /** An emit for this connection is pending. */
  private busy = false;
  /** The client half-closed: finish the frames received, then close our side. */
  private ended = false;
  private closed = false;
  /** Malformed data was seen: the socket is being destroyed, read nothing more. */
  private failed = false;
  /** Acks are waiting in the socket's write buffer: a client that does not read them is not read either. */
  private draining = false;
  private warnedSkipped = false;
  private warnedRejected = false;

  constructor(
    private readonly socket: Socket,
    private readonly host: ForwardConnectionHost,
  ) {
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.decoder = new ForwardFrameDecoder(host.decoderOptions);
    // Acks are small writes a client waits for: do not hold them back for Nagle.
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onEnd());
    socket.on('error', (err) => this.host.ctx.log.debug({ remote: this.remote, err: err.message }, 'forward connection error'));
    socket.on('close', () => this.onClose());
    if (host.paused) socket.pause();
  }

  /** Backpressure is over: handle frames already received and read again. */
  resume(): void {
    this.proceed();
  }

  /** Backpressure: stop reading; the connection stays open. */
  pause(): void {
    this.socket.pause();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.host.metrics.bytes.inc(chunk.length);
    try {
      this.decoder.push(chunk);
    } catch (err) {
      if (err instanceof ForwardProtocolError) return this.fail(err);
      throw err;
    }
    this.proceed();
  }

  private onEnd(): void {
    this.ended = true;
    this.proceed();
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.host.closed(this);
  }

  /** Handle complete frames until one is in flight or none is left, then read more if allowed. */
  private proceed(): void {
    this.pump();
    if (this.busy || this.draining || this.closed || this.failed || this.host.paused) return;
    if (this.ended) this.finish();
    else this.socket.resume();
  }

  private pump(): void {
    const { metrics } = this.host;
    while (!this.busy && !this.draining && !this.closed && !this.failed && !this.host.paused) {
      let frame: ForwardFrame | undefined;
      try {
        frame = this.decoder.next();
      } catch (err) {
        if (err instanceof ForwardProtocolError) return this.fail(err);
        throw err;
      }
      if (!frame) return;
      metrics.frames.inc();
      if (frame.skipped > 0) this.skipped(frame);
      if (frame.events.length === 0) {
        this.ack(frame);
        continue;
      }
      this.busy = true;
      this.socket.pause();
      this.host.ctx.emit(frame.events).then(
        () => this.emitted(frame),
        (err: unknown) => this.rejected(frame, err),
      );
    }
  }

  private emitted(frame: ForwardFrame): void {
    this.busy = false;
    if (this.closed || this.failed) return;
    this.ack(frame);
    this.proceed();
  }

  /** Not acked: a client that asked for acks sends the chunk again; the connection stays usable. */
  private rejected(frame: ForwardFrame, err: unknown): void {
    this.busy = false;
    this.host.metrics.rejectedRecords.inc(frame.events.length);
    if (!this.warnedRejected) {
      this.warnedRejected = true;
      this.host.ctx.log.warn(
        { remote: this.remote, tag: frame.tag, records: frame.events.length, err: err instanceof Error ? err.message : String(err) },
        'forward: the pipeline refused a chunk; not acknowledging it (logged once per connection)',
      );
    }
    if (this.closed || this.failed) return;
    this.proceed();
  }

  private ack(frame: ForwardFrame): void {
    const chunk = frame.option?.chunk;
    if (chunk === undefined || chunk === null || this.socket.destroyed) return;
    this.host.metrics.acks.inc();
    if (this.socket.write(packr.pack({ ack: chunk }))) return;
    this.draining = true;
    this.socket.pause();
    this.socket.once('drain', () => {
      this.draining = false;
      this.proceed();
    });
  }

  private skipped(frame: ForwardFrame): void {
    this.host.metrics.skippedRecords.inc(frame.skipped);
    if (this.warnedSkipped) return;
    this.warnedSkipped = true;
    this.host.ctx.log.warn(
      { remote: this.remote, tag: frame.tag, skipped: frame.skipped },
      'forward: skipped invalid entries (time not a time or record not a map; logged once per connection)',
    );
  }

  private fail(err: ForwardProtocolError): void {
    if (this.closed || this.failed) return;
    this.failed = true;
    this.host.metrics.malformedFrames.inc();
    this.host.ctx.log.warn({ remote: this.remote, reason: err.message }, 'forward: malformed data, closing the connection');
    this.socket.destroy();
  }

  private finish(): void {
    if (this.decoder.pendingBytes > 0) {
      this.host.ctx.log.debug({ remote: this.remote, bytes: this.decoder.pendingBytes }, 'forward: client closed in the middle of a frame');
    }
    this.socket.end();
  }
}
