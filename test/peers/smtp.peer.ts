/**
 * A real SMTP server on 127.0.0.1 (smtp-server package) for e2e tests.
 * Records every accepted message (raw + parsed with mailparser) and can be scripted
 * to reject the next transactions at MAIL FROM, RCPT TO or DATA, or to answer slowly.
 * No TLS: STARTTLS is disabled, AUTH (PLAIN/LOGIN) is allowed in clear text on loopback.
 */
import { randomBytes } from 'node:crypto';
import { type AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import {
  SMTPServer,
  type SMTPServerAddress,
  type SMTPServerAuthentication,
  type SMTPServerAuthenticationResponse,
  type SMTPServerDataStream,
  type SMTPServerSession,
} from 'smtp-server';

export interface ReceivedMail {
  /** MAIL FROM address ('' for the null sender) */
  envelopeFrom: string;
  /** RCPT TO addresses that were accepted */
  recipients: string[];
  /** The message exactly as received (CRLF line ends, dot-unstuffed) */
  raw: string;
  parsed: ParsedMail;
  /** parsed.headers: lower-case header names → mailparser values */
  headers: Map<string, unknown>;
}

export type SmtpFailureStage = 'mail' | 'rcpt' | 'data';

export interface SmtpPeerOptions {
  user?: string;
  password?: string;
}

interface ScriptedFailure {
  remaining: number;
  code: number;
  message: string;
  stage: SmtpFailureStage;
}

interface MailWaiter {
  count: number;
  resolve: (mails: ReceivedMail[]) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

const smtpError = (code: number, message: string): Error => Object.assign(new Error(message), { responseCode: code });

export class SmtpPeer {
  readonly port: number;
  /** smtp://user:pass@127.0.0.1:PORT, or smtp://127.0.0.1:PORT without credentials */
  readonly url: string;
  readonly user: string | undefined;
  readonly password: string | undefined;

  private readonly server: SMTPServer;
  private readonly received: ReceivedMail[] = [];
  private readonly failures: ScriptedFailure[] = [];
  private readonly waiters = new Set<MailWaiter>();
  private readonly counted = new Set<string>();
  private readonly sleepers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  private attemptCount = 0;
  private connectionCount = 0;
  private delayMs = 0;
  private closing: Promise<void> | undefined;

  private constructor(server: SMTPServer, port: number, options: SmtpPeerOptions) {
    this.server = server;
    this.port = port;
    this.user = options.user;
    this.password = options.password;
    const credentials =
      options.user !== undefined
        ? `${encodeURIComponent(options.user)}:${encodeURIComponent(options.password ?? '')}@`
        : '';
    this.url = `smtp://${credentials}127.0.0.1:${port}`;
  }

  static async start(options: SmtpPeerOptions = {}): Promise<SmtpPeer> {
    const requireAuth = options.user !== undefined || options.password !== undefined;
    // Handlers are bound after construction; the closures below reach the peer through this holder.
    const holder: { peer?: SmtpPeer } = {};
    const server = new SMTPServer({
      secure: false,
      hideSTARTTLS: true,
      disabledCommands: requireAuth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
      authMethods: ['PLAIN', 'LOGIN'],
      allowInsecureAuth: true,
      authOptional: false,
      logger: false,
      banner: 'ai-support test SMTP peer',
      size: 50 * 1024 * 1024,
      closeTimeout: 100,
      onConnect: (_session, callback) => {
        holder.peer!.connectionCount++;
        callback();
      },
      onAuth: (auth, session, callback) => holder.peer!.onAuth(auth, session, callback),
      onMailFrom: (address, session, callback) => holder.peer!.onMailFrom(address, session, callback),
      onRcptTo: (address, session, callback) => holder.peer!.onRcptTo(address, session, callback),
      onData: (stream, session, callback) => holder.peer!.onData(stream, session, callback),
    });
    // smtp-server emits 'error' for client-side socket problems; an unhandled 'error' would crash the test run.
    server.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.server.off('error', reject);
        resolve();
      });
    });
    const port = (server.server.address() as AddressInfo).port;
    const peer = new SmtpPeer(server, port, options);
    holder.peer = peer;
    return peer;
  }

  /** Accepted messages, in order of acceptance. */
  get mails(): ReceivedMail[] {
    return this.received;
  }

  /**
   * Transactions that reached a scripted stage: rejected by a scripted failure at MAIL/RCPT,
   * or reached the end of DATA (accepted or rejected). Each transaction counts once.
   */
  get attempts(): number {
    return this.attemptCount;
  }

  /** Client connections opened since the start or the last reset. */
  get connections(): number {
    return this.connectionCount;
  }

  /**
   * The next `times` transactions that reach `stage` (default 'data') are rejected with `code`.
   * Several calls queue up; each stage takes the first pending failure for that stage.
   */
  failNext(times: number, code: number, message?: string, stage: SmtpFailureStage = 'data'): void {
    if (times <= 0) return;
    this.failures.push({
      remaining: times,
      code,
      message: message ?? (code >= 500 ? 'Permanent failure (scripted)' : 'Temporary failure (scripted)'),
      stage,
    });
  }

  /** Wait this long before answering the end of DATA (simulates a slow server). 0 disables. */
  setDelay(ms: number): void {
    this.delayMs = Math.max(0, ms);
  }

  waitForMails(count: number, timeoutMs = 5000): Promise<ReceivedMail[]> {
    if (this.received.length >= count) return Promise.resolve([...this.received]);
    return new Promise<ReceivedMail[]>((resolve, reject) => {
      const waiter: MailWaiter = {
        count,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          reject(
            new Error(
              `SmtpPeer: expected at least ${count} mail(s) within ${timeoutMs} ms, got ${this.received.length}`,
            ),
          );
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  /** Forgets received mails, attempts, connections, scripted failures and the delay. */
  reset(): void {
    this.received.length = 0;
    this.failures.length = 0;
    this.counted.clear();
    this.attemptCount = 0;
    this.connectionCount = 0;
    this.delayMs = 0;
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      for (const sleeper of this.sleepers) {
        clearTimeout(sleeper.timer);
        sleeper.resolve();
      }
      this.sleepers.clear();
      for (const waiter of this.waiters) {
        clearTimeout(waiter.timer);
        waiter.reject(new Error('SmtpPeer closed while waiting for mails'));
      }
      this.waiters.clear();
      this.server.close(() => resolve());
    });
    return this.closing;
  }

  // -------------------------------------------------------------------------

  private takeFailure(stage: SmtpFailureStage): Error | undefined {
    const index = this.failures.findIndex((f) => f.stage === stage);
    if (index < 0) return undefined;
    const failure = this.failures[index]!;
    failure.remaining--;
    if (failure.remaining <= 0) this.failures.splice(index, 1);
    return smtpError(failure.code, failure.message);
  }

  private countAttempt(session: SMTPServerSession): void {
    const key = `${session.id}:${session.transaction}`;
    if (this.counted.has(key)) return;
    this.counted.add(key);
    this.attemptCount++;
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.closing) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const sleeper = {
        resolve,
        timer: setTimeout(() => {
          this.sleepers.delete(sleeper);
          resolve();
        }, ms),
      };
      this.sleepers.add(sleeper);
    });
  }

  private onAuth(
    auth: SMTPServerAuthentication,
    _session: SMTPServerSession,
    callback: (err: Error | null | undefined, response?: SMTPServerAuthenticationResponse) => void,
  ): void {
    const methodOk = auth.method === 'PLAIN' || auth.method === 'LOGIN';
    if (methodOk && auth.username === this.user && (auth.password ?? '') === (this.password ?? '')) {
      callback(null, { user: auth.username });
      return;
    }
    callback(smtpError(535, 'Authentication credentials invalid'));
  }

  private onMailFrom(
    _address: SMTPServerAddress,
    session: SMTPServerSession,
    callback: (err?: Error | null) => void,
  ): void {
    const failure = this.takeFailure('mail');
    if (failure) this.countAttempt(session);
    callback(failure ?? null);
  }

  private onRcptTo(
    _address: SMTPServerAddress,
    session: SMTPServerSession,
    callback: (err?: Error | null) => void,
  ): void {
    const failure = this.takeFailure('rcpt');
    if (failure) this.countAttempt(session);
    callback(failure ?? null);
  }

  private onData(
    stream: SMTPServerDataStream,
    session: SMTPServerSession,
    callback: (err?: Error | null, message?: string) => void,
  ): void {
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (err: Error | null, message?: string): void => {
      if (done) return;
      done = true;
      callback(err, message);
    };
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', (err: Error) => finish(smtpError(451, `Local error reading message: ${err.message}`)));
    stream.on('end', () => {
      // Snapshot the envelope now: smtp-server resets the session once the callback has run.
      const envelopeFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
      const recipients = session.envelope.rcptTo.map((a) => a.address);
      this.countAttempt(session);
      const failure = this.takeFailure('data');
      const sizeExceeded = stream.sizeExceeded;
      this.sleep(this.delayMs)
        .then(async () => {
          if (failure) return finish(failure);
          if (sizeExceeded) return finish(smtpError(552, 'Message exceeds fixed maximum message size'));
          const rawBuffer = Buffer.concat(chunks);
          const parsed = await simpleParser(rawBuffer);
          const mail: ReceivedMail = {
            envelopeFrom,
            recipients,
            raw: rawBuffer.toString('utf8'),
            parsed,
            headers: parsed.headers,
          };
          this.received.push(mail);
          this.notifyWaiters();
          const queueId = randomBytes(6).toString('hex').toUpperCase();
          finish(null, `OK: queued as ${queueId}`);
        })
        .catch((err: unknown) => {
          finish(smtpError(451, `Local error in processing: ${err instanceof Error ? err.message : String(err)}`));
        });
    });
  }

  private notifyWaiters(): void {
    for (const waiter of this.waiters) {
      if (this.received.length >= waiter.count) {
        clearTimeout(waiter.timer);
        this.waiters.delete(waiter);
        waiter.resolve([...this.received]);
      }
    }
  }
}
