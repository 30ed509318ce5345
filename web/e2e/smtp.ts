// Delivers a message to the server's MX listener over plain SMTP
// (RFC 5321), as any sending MTA would. Only what the tests need: EHLO,
// MAIL, RCPT, DATA, QUIT, with dot-stuffing.

import { connect, type Socket } from 'node:net';

export interface Delivery {
  host: string;
  port: number;
  from: string;
  to: string[];
  /** The whole message, headers and body, with any line endings. */
  data: string;
}

class Reader {
  private buf = '';
  private waiters: (() => void)[] = [];
  constructor(sock: Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.buf += d;
      this.waiters.splice(0).forEach((w) => w());
    });
  }

  /** Reads one (possibly multi-line) reply and returns its code. */
  async reply(): Promise<{ code: number; text: string }> {
    for (;;) {
      const lines = this.buf.split('\r\n');
      for (let i = 0; i < lines.length - 1; i++) {
        const l = lines[i] ?? '';
        if (/^\d{3} /.test(l) || /^\d{3}$/.test(l)) {
          const text = lines.slice(0, i + 1).join('\n');
          this.buf = lines.slice(i + 1).join('\r\n');
          return { code: Number(l.slice(0, 3)), text };
        }
      }
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }
}

export async function deliver(d: Delivery): Promise<void> {
  const sock = connect(d.port, d.host);
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  const r = new Reader(sock);
  const expect = async (want: number, what: string) => {
    const { code, text } = await r.reply();
    if (Math.floor(code / 100) !== want) throw new Error(`SMTP ${what}: ${text}`);
  };
  const send = (line: string) => sock.write(`${line}\r\n`);
  try {
    await expect(2, 'greeting');
    send('EHLO e2e.test');
    await expect(2, 'EHLO');
    send(`MAIL FROM:<${d.from}>`);
    await expect(2, 'MAIL');
    for (const rcpt of d.to) {
      send(`RCPT TO:<${rcpt}>`);
      await expect(2, 'RCPT');
    }
    send('DATA');
    await expect(3, 'DATA');
    const body = d.data
      .replace(/\r?\n/g, '\r\n')
      .split('\r\n')
      .map((l) => (l.startsWith('.') ? `.${l}` : l))
      .join('\r\n');
    sock.write(`${body}${body.endsWith('\r\n') ? '' : '\r\n'}.\r\n`);
    await expect(2, 'end of data');
    send('QUIT');
    await r.reply().catch(() => undefined);
  } finally {
    sock.destroy();
  }
}

/** A simple text message. */
export function textMessage(o: { from: string; to: string; subject: string; body: string; html?: string }): string {
  const id = `<${Date.now()}.${Math.random().toString(36).slice(2)}@e2e.test>`;
  const head = [
    `From: Tester <${o.from}>`,
    `To: <${o.to}>`,
    `Subject: ${o.subject}`,
    `Date: ${new Date().toUTCString()}`,
    `Message-ID: ${id}`,
    'MIME-Version: 1.0',
  ];
  if (!o.html) return [...head, 'Content-Type: text/plain; charset=utf-8', '', o.body, ''].join('\r\n');
  const b = 'b1_e2e';
  return [
    ...head,
    `Content-Type: multipart/alternative; boundary="${b}"`,
    '',
    `--${b}`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    o.body,
    `--${b}`,
    'Content-Type: text/html; charset=utf-8',
    '',
    o.html,
    `--${b}--`,
    '',
  ].join('\r\n');
}
