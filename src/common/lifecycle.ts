import { type BeforeApplicationShutdown, Injectable } from '@nestjs/common';

/**
 * Knows whether the process is shutting down. Readiness turns false as soon as SIGTERM arrives, so
 * Kubernetes stops routing new requests while the in-flight ones finish.
 */
@Injectable()
export class Lifecycle implements BeforeApplicationShutdown {
  private draining = false;

  get isShuttingDown(): boolean {
    return this.draining;
  }

  beforeApplicationShutdown(): void {
    this.draining = true;
  }
}
