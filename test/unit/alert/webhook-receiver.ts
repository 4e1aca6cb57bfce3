/**
 * A real local HTTP receiver for webhook tests: records every request and answers with the
 * status `respond` chooses (default 200), after `delayMs` (so two concurrent POSTs would overlap).
 * `start()` registers nothing global; `close()` stops it.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}

export class TestReceiver {
  readonly requests: Received[] = [];
  respond: (req: { body: string; attempt: number }) => number = () => 200;
  delayMs = 0;
  private server: Server | null = null;
  url = '';

  async start(path = '/hook'): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const status = this.respond({ body, attempt: this.requests.length + 1 });
        this.requests.push({ headers: req.headers, body, status });
        res.statusCode = status;
        if (this.delayMs > 0) setTimeout(() => res.end(), this.delayMs);
        else res.end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
    return this;
  }

  /** Requests the receiver accepted (2xx). */
  get accepted(): Received[] {
    return this.requests.filter((r) => r.status >= 200 && r.status < 300);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
