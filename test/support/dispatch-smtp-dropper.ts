import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/** Where the server hangs up: on a command, before answering it, or after the whole message. */
export type DropStage = 'AUTH' | 'MAIL' | 'RCPT' | 'DATA' | 'after-data';

/**
 * A minimal SMTP server on 127.0.0.1 that closes the connection instead of answering, for the
 * first `drops` transactions (or logins), at `stage`. After the whole message (DATA up to the final "."), the
 * message was transmitted but the client cannot know whether it was taken: real servers and
 * networks do this (a relay restarting, a NAT timeout) and a retry then delivers the mail twice.
 * On MAIL, RCPT or DATA nothing was transmitted and a retry is the right thing. Later
 * transactions are answered 250. Every transmitted message is recorded. With `replyDelayMs` it is
 * also a tarpit: every reply comes that long after the command (greeting included).
 */
export class DroppingSmtpServer {
  /** Raw messages whose DATA was fully transmitted, answered or not. */
  readonly transmitted: string[] = [];
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private drops: number,
    private readonly stage: DropStage,
    private readonly replyDelayMs: number,
  ) {}

  static async start(drops: number, stage: DropStage = 'after-data', options: { replyDelayMs?: number } = {}): Promise<DroppingSmtpServer> {
    const holder: { peer?: DroppingSmtpServer } = {};
    const server = createServer((socket) => holder.peer!.serve(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    holder.peer = new DroppingSmtpServer(server, `smtp://127.0.0.1:${port}`, drops, stage, options.replyDelayMs ?? 0);
    return holder.peer;
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffer = '';
    let inData = false;
    const reply = (line: string) => {
      if (this.replyDelayMs === 0) socket.write(`${line}\r\n`);
      else setTimeout(() => socket.writable && socket.write(`${line}\r\n`), this.replyDelayMs);
    };
    reply('220 dropper ESMTP');
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      for (;;) {
        if (inData) {
          const end = buffer.indexOf('\r\n.\r\n');
          if (end < 0) return;
          this.transmitted.push(buffer.slice(0, end + 2).replace(/\r\n\.\./g, '\r\n.'));
          buffer = buffer.slice(end + 5);
          inData = false;
          if (this.stage === 'after-data' && this.drops > 0) {
            this.drops--;
            socket.destroy();
            return;
          }
          reply('250 2.0.0 Ok: queued');
          continue;
        }
        const eol = buffer.indexOf('\r\n');
        if (eol < 0) return;
        const line = buffer.slice(0, eol);
        buffer = buffer.slice(eol + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === this.stage && this.drops > 0) {
          this.drops--;
          socket.destroy();
          return;
        }
        if (verb === 'EHLO') {
          reply('250-dropper');
          reply('250-AUTH PLAIN');
          reply('250 8BITMIME');
        } else if (verb === 'AUTH') {
          // Any credentials: what is tested is the connection going away, not the password.
          reply('235 2.7.0 Authentication successful');
        } else if (verb === 'HELO' || verb === 'MAIL' || verb === 'RCPT' || verb === 'RSET' || verb === 'NOOP') {
          reply('250 OK');
        } else if (verb === 'DATA') {
          inData = true;
          reply('354 End data with <CR><LF>.<CR><LF>');
        } else if (verb === 'QUIT') {
          reply('221 Bye');
          socket.end();
          return;
        } else {
          reply('502 Command not implemented');
        }
      }
    });
  }
}
