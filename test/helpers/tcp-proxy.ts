import { createServer, type Server, Socket } from 'node:net';
import { registerCleanup } from './services.ts';

export interface TcpProxy {
  /** The proxy's address, in the target URL's scheme (http://127.0.0.1:<port>). */
  url: string;
  /** Refuse new connections and drop open ones: the target looks down to whoever uses `url`. */
  cut(): Promise<void>;
  /** Listen again on the same port. */
  restore(): Promise<void>;
}

/**
 * A TCP proxy to a shared service that a test can cut and restore, so outages are made without
 * stopping the service other tests use. Closed when the test file ends.
 */
export async function tcpProxy(targetUrl: string, defaultPort: number): Promise<TcpProxy> {
  const target = new URL(targetUrl);
  const sockets = new Set<Socket>();
  let server: Server;
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server = createServer((downstream) => {
        const upstream = new Socket();
        sockets.add(downstream);
        sockets.add(upstream);
        const drop = () => {
          downstream.destroy();
          upstream.destroy();
          sockets.delete(downstream);
          sockets.delete(upstream);
        };
        upstream.connect(Number(target.port || defaultPort), target.hostname);
        downstream.pipe(upstream).pipe(downstream);
        downstream.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
    });
  const port = await listen(0);
  const cut = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
      sockets.clear();
    });
  registerCleanup(() => (server.listening ? cut() : undefined));
  return {
    url: `${target.protocol}//127.0.0.1:${port}`,
    cut,
    restore: async () => void (await listen(port)),
  };
}
