import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { SQLITE_MEMORY } from '../config/database-url.js';

const CHECKPOINT_INTERVAL_MS = 1000;

/** Runs in the worker thread: its own connection to the same file, checkpointing on a timer. */
const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 5000');
setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (error) {
    parentPort.postMessage({ error: String(error) });
  }
}, workerData.intervalMs);
`;

/**
 * SQLite in WAL mode copies the log back into the database file at checkpoints, with an fsync. By
 * default the connection that commits does it, inside the commit: on this machine that was half of
 * the time of each insert and stalled the event loop for up to 150 ms. Here a worker thread with its
 * own connection checkpoints every second instead (PASSIVE: it never blocks writers), and the
 * service's connection never does. If the worker dies, automatic checkpoints come back.
 */
@Injectable()
export class SqliteCheckpointer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SqliteCheckpointer.name);
  private worker: Worker | null = null;
  private stopping = false;

  constructor(private readonly dataSource: DataSource) {}

  async onApplicationBootstrap(): Promise<void> {
    const options = this.dataSource.options;
    if (options.type !== 'better-sqlite3' || options.database === SQLITE_MEMORY) return;
    await this.dataSource.query('PRAGMA wal_autocheckpoint = 0');
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { file: options.database, driver: createRequire(import.meta.url).resolve('better-sqlite3'), intervalMs: CHECKPOINT_INTERVAL_MS },
    });
    worker.unref();
    worker.on('message', (message: { error?: string }) => {
      if (message.error) this.logger.warn({ msg: 'SQLite checkpoint failed; will retry', err: message.error });
    });
    worker.on('error', (error) => void this.fallBack(String(error)));
    worker.on('exit', (code) => {
      if (!this.stopping) void this.fallBack(`exited with code ${code}`);
    });
    this.worker = worker;
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.worker?.terminate();
    this.worker = null;
  }

  private async fallBack(reason: string): Promise<void> {
    if (this.stopping || !this.worker) return;
    this.worker = null;
    this.logger.warn({ msg: 'SQLite checkpoint worker stopped; checkpointing on commit again', reason });
    try {
      await this.dataSource.query('PRAGMA wal_autocheckpoint = 1000');
    } catch (error) {
      this.logger.error({ msg: 'could not restore automatic checkpoints', err: String(error) });
    }
  }
}
