/**
 * A TCP proxy on 127.0.0.1 in front of a database server, for fault tests. It forwards bytes both
 * ways, and on demand:
 * - `refuse()`: closes its port and cuts every connection (the server is gone, as far as clients can
 *   tell: a crash, a failover, a firewall reset); `pass()` listens again on the same port.
 * - `hang()`: keeps every connection open but forwards nothing, and accepts new connections without
 *   forwarding them either (a network partition, a half-open connection); `pass()` then delivers what
 *   was held, in order, as TCP does once a partition heals.
 * - `latency(ms)`: holds each chunk from the server `ms` before it reaches the client, so every round
 *   trip takes `ms` longer (a slow network, a saturated server); `latency(0)` ends it.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export type ProxyMode = 'pass' | 'refuse' | 'hang';

/** One direction of one connection: chunks held until their time (and while hung). */
class Pipe {
  private readonly queue: { chunk: Buffer; at: number }[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly to: Socket,
    private readonly proxy: FaultProxy,
    private readonly delayed: boolean,
  ) {}

  push(chunk: Buffer): void {
    const delay = this.delayed ? this.proxy.latencyMs : 0;
    this.queue.push({ chunk, at: Date.now() + delay });
    this.drain();
  }

  drain(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.proxy.mode === 'hang' || this.to.destroyed) return;
    const now = Date.now();
    while (this.queue.length > 0 && (this.queue[0] as { at: number }).at <= now) {
      this.to.write((this.queue.shift() as { chunk: Buffer }).chunk);
    }
    const head = this.queue[0];
    if (head !== undefined) this.timer = setTimeout(() => this.drain(), head.at - now);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.queue.length = 0;
  }
}

export class FaultProxy {
  mode: ProxyMode = 'pass';
  latencyMs = 0;
  port = 0;
  /** Connections accepted so far (a reconnecting pool shows here). */
  accepted = 0;
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly pipes = new Set<Pipe>();

  private constructor(
    private readonly host: string,
    private readonly targetPort: number,
  ) {}

  /** A proxy to the server of `url` (host and port), listening on a free port. */
  static async to(url: string): Promise<FaultProxy> {
    const parsed = new URL(url);
    const proxy = new FaultProxy(parsed.hostname, Number(parsed.port));
    await proxy.listen();
    return proxy;
  }

  /** `url` with its host and port replaced by this proxy's. */
  urlFor(url: string): string {
    const parsed = new URL(url);
    parsed.hostname = '127.0.0.1';
    parsed.port = String(this.port);
    return parsed.toString();
  }

  /** Forwards again: listens if it was refusing, delivers what a hang held. */
  async pass(): Promise<void> {
    this.mode = 'pass';
    await this.listen();
    for (const pipe of this.pipes) pipe.drain();
  }

  /** Closes the port and cuts every connection. */
  async refuse(): Promise<void> {
    this.mode = 'refuse';
    const server = this.server;
    if (server === null) return;
    this.server = null;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  /** Forwards nothing (connections stay open, new ones are accepted) until `pass()`. */
  hang(): void {
    this.mode = 'hang';
  }

  /** Adds `ms` to every round trip from now on (0: none). */
  latency(ms: number): void {
    this.latencyMs = ms;
  }

  /** Cuts everything and closes the port for good. */
  async close(): Promise<void> {
    await this.refuse();
    for (const pipe of this.pipes) pipe.dispose();
    this.pipes.clear();
  }

  private async listen(): Promise<void> {
    if (this.server !== null) return;
    const server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  private accept(client: Socket): void {
    this.accepted++;
    const upstream = connect(this.targetPort, this.host);
    const toServer = new Pipe(upstream, this, false);
    const toClient = new Pipe(client, this, true);
    this.pipes.add(toServer).add(toClient);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.setNoDelay(true);
      // A cut connection errors on both sides; the database client sees its own side close.
      socket.on('error', () => undefined);
      socket.on('close', () => {
        this.sockets.delete(socket);
        toServer.dispose();
        toClient.dispose();
        this.pipes.delete(toServer);
        this.pipes.delete(toClient);
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (chunk: Buffer) => toServer.push(chunk));
    upstream.on('data', (chunk: Buffer) => toClient.push(chunk));
  }
}
