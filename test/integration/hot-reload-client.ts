/**
 * A forward client that asks for acks and keeps its promise, as fluent-logger and Fluent Bit's forward
 * output do with require_ack_response: chunks go out several at a time, each is forgotten once acked,
 * and when the connection ends (floki reloading, or stopping) the chunks not acked are sent again on a
 * new connection, once the port takes connections again. A reset is counted: a clean stop ends the
 * connection after the last ack instead.
 */
import { connect, type Socket } from 'node:net';
import { Packr, Unpackr } from 'msgpackr';

const packr = new Packr({ useRecords: false });

interface Chunk {
  id: string;
  bytes: Buffer;
}

export class AckingForwardClient {
  private socket: Socket | undefined;
  private readonly queue: Chunk[] = [];
  private readonly inFlight = new Map<string, Chunk>();
  private unpackr = new Unpackr({ useRecords: false });
  private pending: Buffer = Buffer.alloc(0);
  private closing = false;
  private connecting = false;
  private nextId = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  /** Connections made, resets seen (ECONNRESET, EPIPE), and chunks acked. */
  connections = 0;
  resets = 0;
  acked = 0;
  /** Chunks sent again after a connection ended without their ack. */
  resent = 0;

  constructor(
    private readonly port: number,
    private readonly tag: string,
    /** Chunks written and not acked at most. */
    private readonly window = 8,
  ) {}

  /** Queues one chunk of these lines (`{msg: line}` records at integer times). */
  send(lines: string[]): void {
    const entries = lines.map((msg) => [Math.floor(Date.now() / 1000), { msg }]);
    const id = `c${this.nextId++}`;
    this.queue.push({ id, bytes: packr.pack([this.tag, entries, { chunk: id }]) });
    this.pump();
  }

  /** Chunks not acked yet. */
  get outstanding(): number {
    return this.queue.length + this.inFlight.size;
  }

  close(): void {
    this.closing = true;
    clearTimeout(this.reconnectTimer);
    this.socket?.destroy();
  }

  private pump(): void {
    if (this.closing) return;
    if (this.socket === undefined) return this.connect();
    if (this.connecting) return;
    while (this.inFlight.size < this.window && this.queue.length > 0) {
      const chunk = this.queue.shift()!;
      this.inFlight.set(chunk.id, chunk);
      this.socket.write(chunk.bytes);
    }
  }

  private connect(): void {
    if (this.connecting || this.closing) return;
    this.connecting = true;
    const socket = connect({ host: '127.0.0.1', port: this.port });
    this.socket = socket;
    this.unpackr = new Unpackr({ useRecords: false });
    this.pending = Buffer.alloc(0);
    socket.on('connect', () => {
      this.connecting = false;
      this.connections++;
      this.pump();
    });
    socket.on('data', (data: Buffer) => this.onData(data));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (!this.connecting && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) this.resets++;
    });
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.connecting = false;
      // Not acked: sent again, first, on the next connection.
      const unacked = [...this.inFlight.values()];
      this.inFlight.clear();
      this.resent += unacked.length;
      this.queue.unshift(...unacked);
      if (!this.closing && this.outstanding > 0) this.reconnectTimer = setTimeout(() => this.pump(), 20);
    });
    // The server ended its side (a clean stop): end ours, and come back.
    socket.on('end', () => socket.end());
  }

  private onData(data: Buffer): void {
    this.pending = this.pending.length === 0 ? data : Buffer.concat([this.pending, data]);
    let replies: unknown[];
    try {
      replies = this.unpackr.unpackMultiple(this.pending) as unknown[];
      this.pending = Buffer.alloc(0);
    } catch {
      return; // a reply cut in two: wait for the rest
    }
    for (const reply of replies) {
      const id = (reply as { ack?: string }).ack;
      if (id !== undefined && this.inFlight.delete(id)) this.acked++;
    }
    this.pump();
  }
}
