import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Input, InputContext } from '../../core/plugin.js';
import { ForwardConnection, type ForwardConnectionHost } from './connection.js';
import type { ForwardFrameDecoderOptions } from './decoder.js';
import { forwardMetrics, type ForwardMetrics } from './metrics.js';
import type { ForwardServerOptions } from './options.js';

/**
 * The forward input: a TCP server speaking the Fluent forward protocol (Message, Forward,
 * PackedForward, CompressedPackedForward), acking chunks once the pipeline queued their events.
 *
 * Backpressure pauses reading on every connection but keeps them open and keeps accepting (new
 * sockets start paused). Fluent Bit closes all connections on pause instead; keeping them spares
 * clients a reconnect and resend, and TCP flow control holds them back meanwhile.
 */
export class ForwardServer implements Input, ForwardConnectionHost {
  readonly metrics: ForwardMetrics;
  readonly decoderOptions: ForwardFrameDecoderOptions;
  private readonly server: Server;
  private readonly connections = new Set<ForwardConnection>();
  private pausedFlag = false;
  private stopped = false;

  constructor(
    readonly options: ForwardServerOptions,
    readonly ctx: InputContext,
  ) {
    this.metrics = forwardMetrics(ctx.metrics, ctx.name);
    this.decoderOptions = {
      bufferMaxSize: options.bufferMaxSize,
      bufferChunkSize: options.bufferChunkSize,
      tag: options.tag,
      tagPrefix: options.tagPrefix,
    };
    // Half-open: a client may send its last chunk and shut down its side; it still gets the ack.
    this.server = createServer({ allowHalfOpen: true }, (socket) => this.accept(socket));
  }

  get paused(): boolean {
    return this.pausedFlag;
  }

  start(): Promise<void> {
    this.pausedFlag = this.ctx.paused;
    const { listen, port } = this.options;
    return new Promise((resolve, reject) => {
      const failed = (err: Error): void => {
        reject(new Error(`forward input ${this.ctx.name}: cannot listen on ${listen}:${port}: ${err.message}`));
      };
      this.server.once('error', failed);
      this.server.listen({ host: listen, port }, () => {
        this.server.off('error', failed);
        this.server.on('error', (err) => this.ctx.log.error({ err: err.message }, 'forward input server error'));
        const bound = this.address();
        this.ctx.log.info({ listen: bound?.address ?? listen, port: bound?.port ?? port }, 'forward input listening');
        resolve();
      });
    });
  }

  /** The bound address (the real port when configured with port 0), or null before start. */
  address(): AddressInfo | null {
    const address = this.server.address();
    return address !== null && typeof address === 'object' ? address : null;
  }

  pause(): void {
    if (this.pausedFlag) return;
    this.pausedFlag = true;
    for (const connection of this.connections) connection.pause();
  }

  resume(): void {
    if (!this.pausedFlag) return;
    this.pausedFlag = false;
    for (const connection of this.connections) connection.resume();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const connection of this.connections) connection.destroy();
    await closed;
  }

  closed(connection: ForwardConnection): void {
    if (this.connections.delete(connection)) this.metrics.connectionsActive.dec();
  }

  private accept(socket: Socket): void {
    if (this.stopped) {
      socket.destroy();
      return;
    }
    this.metrics.connections.inc();
    this.metrics.connectionsActive.inc();
    this.connections.add(new ForwardConnection(socket, this));
  }
}
