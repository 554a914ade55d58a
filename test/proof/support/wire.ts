/**
 * Clients that send exactly what they are given: HTTP/1.1 over a raw socket (nothing
 * normalises the request line, the headers or the framing) and HTTP/2 with node:http2.
 * Every call is bounded in time; a connection the gateway closes without answering is a
 * result too (status 0).
 */
import http2 from 'node:http2';
import net from 'node:net';

export interface WireReply {
  /** First status line's code, 0 when the connection closed without one. */
  status: number;
  /** Everything the gateway sent back, head and body. */
  text: string;
  /** Whether the gateway closed the connection within the time allowed. */
  closed: boolean;
}

export function rawH1(port: number, bytes: string | Buffer, timeoutMs = 3000): Promise<WireReply> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let closed = false;
    const done = (): void => {
      clearTimeout(timer);
      sock.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0), text, closed });
    };
    const timer = setTimeout(done, timeoutMs);
    sock.on('connect', () => sock.write(bytes));
    sock.on('data', (d: Buffer) => {
      chunks.push(d);
      // One whole response is enough when the gateway keeps the connection open.
      const text = Buffer.concat(chunks).toString('latin1');
      const head = text.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length: (\d+)/i.exec(text.slice(0, head))?.[1];
      if (head > 0 && length !== undefined && text.length >= head + 4 + Number(length)) done();
    });
    sock.on('error', () => undefined);
    sock.on('close', () => {
      closed = true;
      done();
    });
  });
}

/** One HTTP/2 request on a fresh session; status 0 when the stream or session was refused. */
export async function h2(url: string, headers: http2.OutgoingHttpHeaders, body?: string | Buffer, timeoutMs = 3000): Promise<WireReply & { code?: string }> {
  const session = http2.connect(url);
  session.on('error', () => undefined);
  try {
    return await new Promise((resolve) => {
      const timer = setTimeout(() => resolve({ status: 0, text: '', closed: false, code: 'timeout' }), timeoutMs);
      let status = 0;
      let text = '';
      let req: http2.ClientHttp2Stream;
      try {
        req = session.request(headers);
      } catch (err) {
        clearTimeout(timer);
        return resolve({ status: 0, text: '', closed: true, code: (err as NodeJS.ErrnoException).code });
      }
      req.setEncoding('utf8');
      req.on('response', (h) => {
        status = Number(h[':status']);
        text += JSON.stringify(h);
      });
      req.on('data', (d: string) => (text += d));
      const end = (code?: string): void => {
        clearTimeout(timer);
        resolve({ status, text, closed: true, code });
      };
      req.on('end', () => end());
      req.on('error', (err: NodeJS.ErrnoException) => end(err.code));
      req.on('close', () => end(req.rstCode ? `rst-${req.rstCode}` : undefined));
      req.end(body);
    });
  } finally {
    session.destroy();
  }
}
