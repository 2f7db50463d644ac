/**
 * One port for HTTP/1.1 and HTTP/2, as Fluent Bit's http input serves with `http2 on` (its default):
 * over TLS the protocol is chosen by ALPN; in clear text a connection that opens with HTTP/2's
 * preface (prior knowledge, `curl --http2-prior-knowledge`) goes to an HTTP/2 server, any other to an
 * HTTP/1.1 server. Both call the same request handler (fastify's), so routes and limits are one.
 */
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
const SNIFF_TIMEOUT_MS = 60_000;

type Handler = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse) => void;

/** What fastify needs of its server: listen, address, close, and closing idle connections on close. */
export interface DualProtocolServer extends net.Server {
  closeIdleConnections(): void;
}

/**
 * The listening server: clear text sniffs each connection's first bytes; TLS offers `h2` and
 * `http/1.1` by ALPN. Either way the connection is handed to one of two servers sharing the handler.
 */
export function dualProtocolServer(handler: Handler, tlsOptions?: { cert: Buffer; key: Buffer }): DualProtocolServer {
  const h1 = http.createServer(handler as http.RequestListener);
  // An http.Server that never listens does not track its connections (closeIdleConnections does nothing):
  // count each connection's requests in progress here.
  const active = new Map<net.Socket, number>();
  let closing = false;
  h1.on('connection', (socket: net.Socket) => {
    active.set(socket, 0);
    socket.on('close', () => active.delete(socket));
  });
  h1.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const socket = req.socket;
    active.set(socket, (active.get(socket) ?? 0) + 1);
    res.on('close', () => {
      const left = (active.get(socket) ?? 1) - 1;
      active.set(socket, left);
      if (closing && left === 0) socket.end();
    });
  });
  const h2 = http2.createServer();
  h2.on('request', handler);
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on('session', (s: http2.ServerHttp2Session) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
    if (closing) s.close();
  });
  /** Connections not yet handed to either server. */
  const sniffing = new Set<net.Socket>();
  const hand = (socket: net.Socket, isHttp2: boolean) => (isHttp2 ? h2 : h1).emit('connection', socket);
  let server: net.Server;
  if (tlsOptions) {
    server = tls.createServer({ ...tlsOptions, ALPNProtocols: ['h2', 'http/1.1'] }, (socket) => hand(socket, socket.alpnProtocol === 'h2'));
  } else {
    server = net.createServer((socket) => {
      socket.on('error', () => socket.destroy());
      // A connection that never says which protocol it speaks is not kept.
      socket.setTimeout(SNIFF_TIMEOUT_MS, () => socket.destroy());
      let head = Buffer.alloc(0);
      sniffing.add(socket);
      socket.on('close', () => sniffing.delete(socket));
      const sniff = () => {
        let chunk: Buffer | null;
        while ((chunk = socket.read() as Buffer | null) !== null) head = Buffer.concat([head, chunk]);
        const n = Math.min(head.length, PREFACE.length);
        const maybeHttp2 = PREFACE.subarray(0, n).equals(head.subarray(0, n));
        // Wait for more while the bytes so far could still be either protocol.
        if (maybeHttp2 && n < PREFACE.length) return;
        socket.off('readable', sniff);
        sniffing.delete(socket);
        socket.setTimeout(0);
        socket.unshift(head);
        hand(socket, maybeHttp2);
      };
      socket.on('readable', sniff);
    });
  }
  const dual = server as DualProtocolServer;
  dual.closeIdleConnections = () => {
    closing = true;
    for (const socket of sniffing) socket.destroy();
    for (const [socket, requests] of active) if (requests === 0) socket.destroy();
    for (const s of sessions) s.close();
  };
  return dual;
}
