import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { chmodSync, lstatSync, readFileSync, unlinkSync } from 'node:fs';
import { createServer, isIPv6, Socket, type AddressInfo, type Server } from 'node:net';
import { createServer as createTlsServer, type TLSSocket, type TlsOptions } from 'node:tls';
import type { Input, InputContext } from '../../core/plugin.js';
import { TranscodePool } from '../../msgpack/transcode-pool.js';
import { ForwardConnection, type ForwardConnectionHost } from './connection.js';
import type { ForwardFrameDecoderOptions } from './decoder.js';
import { ConnectionLimits } from './connection-limits.js';
import { forwardMetrics, type ForwardMetrics } from './metrics.js';
import type { ForwardSecurityOptions } from './handshake.js';
import type { ForwardServerOptions, ForwardTlsOptions } from './options.js';

/** The UDP heartbeat answer (forward protocol v1; Fluentd replies "\0"). */
const HEARTBEAT_REPLY = Buffer.from([0x00]);

/**
 * The forward input: a TCP (or TLS, or unix socket) server speaking the Fluent forward protocol
 * (Message, Forward, PackedForward, CompressedPackedForward, msgpack or JSON), with the secure
 * forward handshake when a shared key is set, acking chunks once the pipeline queued their events,
 * and a UDP socket on the same port answering heartbeats.
 *
 * Backpressure pauses reading on every connection but keeps them open and keeps accepting (new
 * sockets start paused). Fluent Bit closes all connections on pause instead; keeping them spares
 * clients a reconnect and resend, and TCP flow control holds them back meanwhile.
 *
 * No client can lock others out: at net.max_connections a new connection closes the longest idle one
 * (not the newcomer), a frame must arrive within net.frame_timeout, and the bytes held in unfinished
 * frames over all connections stay under buffer_total_limit_size (the oldest unfinished frame's
 * connection is closed past it).
 */
export class ForwardServer implements Input, ForwardConnectionHost {
  readonly metrics: ForwardMetrics;
  readonly decoderOptions: ForwardFrameDecoderOptions;
  readonly security: ForwardSecurityOptions | undefined;
  readonly transcoder: TranscodePool | undefined;
  private server: Server | undefined;
  private udp: UdpSocket | undefined;
  /** Open connections, and the limits on what they hold (net.max_connections, buffer_total_limit_size). */
  private readonly limits: ConnectionLimits;
  private timer: NodeJS.Timeout | undefined;
  private pausedFlag = false;
  private stopped = false;

  constructor(
    readonly options: ForwardServerOptions,
    readonly ctx: InputContext,
  ) {
    this.metrics = forwardMetrics(ctx.metrics, ctx.name);
    this.limits = new ConnectionLimits(options, this.metrics, ctx.log);
    this.security = options.security;
    this.decoderOptions = {
      bufferMaxSize: options.bufferMaxSize,
      bufferChunkSize: options.bufferChunkSize,
      tag: options.tag,
      tagPrefix: options.tagPrefix,
    };
    this.transcoder = options.threaded
      ? new TranscodePool({
          onFailure: (err) =>
            ctx.log.error({ err: err instanceof Error ? err.message : String(err) }, 'forward: the transcode thread failed; printing records on the main thread from now on'),
        })
      : undefined;
  }

  get paused(): boolean {
    return this.pausedFlag;
  }

  async start(): Promise<void> {
    this.pausedFlag = this.ctx.paused;
    const { options } = this;
    const where = options.unixPath !== undefined ? `unix:${options.unixPath}` : `${options.listen}:${options.port}`;
    const server = this.createServer();
    this.server = server;
    if (options.unixPath !== undefined) this.removeStaleSocket(options.unixPath);
    await new Promise<void>((resolve, reject) => {
      const failed = (err: Error): void => reject(new Error(`forward input ${this.ctx.name}: cannot listen on ${where}: ${err.message}`));
      server.once('error', failed);
      const listening = (): void => {
        server.off('error', failed);
        server.on('error', (err) => this.ctx.log.error({ err: err.message }, 'forward input server error'));
        resolve();
      };
      if (options.unixPath !== undefined) server.listen({ path: options.unixPath }, listening);
      else server.listen({ host: options.listen, port: options.port }, listening);
    });
    if (options.unixPath !== undefined && options.unixPerm !== undefined) {
      try {
        chmodSync(options.unixPath, options.unixPerm);
      } catch (err) {
        await this.stop();
        throw new Error(`forward input ${this.ctx.name}: cannot set unix_perm on ${options.unixPath}: ${(err as Error).message}`);
      }
    }
    const bound = this.address();
    if (bound) await this.startHeartbeat(bound.port);
    this.ctx.log.info(
      {
        listen: options.unixPath ?? bound?.address ?? options.listen,
        port: bound?.port,
        tls: options.tls !== undefined,
        handshake: this.security !== undefined,
        users: this.security?.users.size || undefined,
      },
      'forward input listening',
    );
  }

  /** The bound TCP address (the real port when configured with port 0); null for a unix socket or before start. */
  address(): AddressInfo | null {
    const address = this.server?.address();
    return address !== null && typeof address === 'object' ? address : null;
  }

  /** Bytes held in unfinished frames over all connections (what buffer_total_limit_size bounds). */
  get heldBytes(): number {
    return this.limits.heldBytes;
  }

  /** The UDP heartbeat socket's port, when it is bound. */
  heartbeatPort(): number | undefined {
    return this.udp?.address().port;
  }

  pause(): void {
    if (this.pausedFlag) return;
    this.pausedFlag = true;
    for (const connection of this.limits.connections) connection.pause();
  }

  resume(): void {
    if (!this.pausedFlag) return;
    this.pausedFlag = false;
    for (const connection of this.limits.connections) connection.resume();
  }

  /**
   * Stops accepting (the port is free for the next listener at once), lets every connection emit and
   * ack the chunks it received whole and close (see ForwardConnection.close), and cuts those that have
   * not within half the grace period (a chunk blocked on a full output; a client that does not close).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.udp?.close();
    this.udp = undefined;
    const server = this.server;
    const closed = server?.listening ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    const finished = Promise.all([...this.limits.connections].map((c) => c.close()));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([finished, new Promise((resolve) => (timer = setTimeout(resolve, this.ctx.service.graceMs / 2)))]);
    clearTimeout(timer);
    this.limits.destroyAll();
    await closed;
    await this.transcoder?.close();
  }

  closed(connection: ForwardConnection): void {
    this.limits.closed(connection);
  }

  holding(_connection: ForwardConnection, delta: number): void {
    this.limits.holding(delta);
  }

  private createServer(): Server {
    const tls = this.options.tls;
    // Half-open: a client may send its last chunk and shut down its side; it still gets the ack.
    if (!tls) return createServer({ allowHalfOpen: true }, (socket) => this.accept(socket, true));
    const server = createTlsServer({ ...this.tlsOptions(tls), allowHalfOpen: true, handshakeTimeout: this.options.acceptTimeoutMs });
    // A raw socket counts from its arrival: a flood of TLS handshakes must not lock clients out either.
    server.on('connection', (raw: Socket) => {
      if (this.stopped) raw.destroy();
      else this.limits.arrivedTls(raw);
    });
    server.on('secureConnection', (socket: TLSSocket) => {
      this.limits.secured(rawSocketOf(socket));
      this.accept(socket, false);
    });
    server.on('tlsClientError', (err, socket) => {
      // Node leaves the socket to this handler; half-open (allowHalfOpen), a client that gave up
      // would otherwise keep it open, holding its slot of net.max_connections until stop().
      socket.destroy();
      const raw = rawSocketOf(socket);
      this.limits.handshakeFailed(raw);
      if (this.limits.closedByUs(raw)) return;
      this.metrics.authFailures.inc();
      this.ctx.log.warn({ remote: `${socket.remoteAddress ?? 'unix socket'}:${socket.remotePort ?? ''}`, err: err.message }, 'forward: TLS handshake failed');
    });
    return server;
  }

  private tlsOptions(tls: ForwardTlsOptions): TlsOptions {
    const read = (key: string, path: string): Buffer => {
      try {
        return readFileSync(path);
      } catch (err) {
        throw new Error(`forward input ${this.ctx.name}: cannot read ${key} ${path}: ${(err as Error).message}`);
      }
    };
    return {
      cert: read('tls.crt_file', tls.crtFile),
      key: read('tls.key_file', tls.keyFile),
      passphrase: tls.keyPasswd,
      ca: tls.caFile !== undefined ? read('tls.ca_file', tls.caFile) : undefined,
      requestCert: tls.verify,
      rejectUnauthorized: tls.verify,
    };
  }

  /** Fluent Bit replaces a socket file left by a previous run, and refuses to remove anything else. */
  private removeStaleSocket(path: string): void {
    let isSocket: boolean;
    try {
      isSocket = lstatSync(path).isSocket();
    } catch {
      return;
    }
    if (!isSocket) throw new Error(`forward input ${this.ctx.name}: unix_path ${path} exists and is not a socket`);
    unlinkSync(path);
  }

  private async startHeartbeat(port: number): Promise<void> {
    const udp = createSocket({ type: isIPv6(this.options.listen) ? 'udp6' : 'udp4' });
    udp.on('message', (_msg, peer) => udp.send(HEARTBEAT_REPLY, peer.port, peer.address));
    try {
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind({ port, address: this.options.listen }, () => {
          udp.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      udp.close();
      this.ctx.log.warn({ port, err: (err as Error).message }, 'forward: cannot bind the UDP heartbeat port; TCP is not affected');
      return;
    }
    udp.on('error', (err) => this.ctx.log.debug({ err: err.message }, 'forward: UDP heartbeat error'));
    this.udp = udp;
  }

  /**
   * One timer for every connection's net.io_timeout, net.frame_timeout and handshake deadline. It
   * runs while there are connections (started by the first, stopped when the last has gone), so an
   * idle input wakes nobody.
   */
  private startTimer(): void {
    if (this.timer !== undefined || this.stopped) return;
    const { ioTimeoutMs, acceptTimeoutMs, frameTimeoutMs } = this.options;
    const timeouts = [ioTimeoutMs, frameTimeoutMs, this.security !== undefined ? acceptTimeoutMs : 0].filter((ms) => ms > 0);
    if (timeouts.length === 0) return;
    const every = Math.min(1000, Math.max(20, Math.floor(Math.min(...timeouts) / 4)));
    this.timer = setInterval(() => {
      if (this.limits.connections.size === 0) {
        clearInterval(this.timer);
        this.timer = undefined;
        return;
      }
      const now = Date.now();
      for (const connection of this.limits.connections) connection.checkTimeouts(now, ioTimeoutMs, acceptTimeoutMs, frameTimeoutMs);
    }, every);
    this.timer.unref();
  }

  /** `admit`: a plain socket takes its slot here; a TLS one took it on arrival. */
  private accept(socket: Socket, admit: boolean): void {
    if (this.stopped) {
      socket.destroy();
      return;
    }
    if (admit && !this.limits.admit(socket)) return;
    this.metrics.connections.inc();
    this.limits.add(new ForwardConnection(socket, this));
    this.startTimer();
  }
}

/**
 * The TCP socket under a TLS server's socket. Node keeps it as `_parent` (not a documented property):
 * without it, a socket's handshake slot is only freed when it closes.
 */
function rawSocketOf(socket: TLSSocket): Socket | undefined {
  const parent = (socket as unknown as { _parent?: unknown })._parent;
  return parent instanceof Socket ? parent : undefined;
}
