import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { Lifecycle } from '../common/lifecycle.js';
import { DatabaseMigrator } from '../database/database-migrator.js';
import { KnowledgeBaseService } from '../knowledge-base/knowledge-base.service.js';

const DATABASE_TIMEOUT_MS = 1500;

/**
 * Probes for Kubernetes. GigaChat, Telegram and SMTP are deliberately not checked: the service
 * keeps taking mail while they are down and catches up later.
 */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    private readonly migrator: DatabaseMigrator,
    private readonly knowledgeBase: KnowledgeBaseService,
    private readonly lifecycle: Lifecycle,
  ) {}

  @Get()
  @HealthCheck()
  @ApiOperation({ summary: 'Terminus report: 200 when the database answers, 503 when it does not' })
  @ApiServiceUnavailableResponse({ description: 'The database does not answer (Terminus error body)' })
  check() {
    return this.health.check([() => this.database.pingCheck('database').withTimeout(DATABASE_TIMEOUT_MS)]);
  }

  @Get('live')
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness: the process is up and its event loop turns' })
  live() {
    return this.health.check([() => this.indicators.check('process').up({ uptimeSeconds: Math.round(process.uptime()) })]);
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({
    summary: 'Readiness: database up, migrations applied, knowledge base loaded, not shutting down',
  })
  @ApiServiceUnavailableResponse({ description: 'Not ready (Terminus error body names the failing part)' })
  ready() {
    return this.health.check([
      () => this.database.pingCheck('database').withTimeout(DATABASE_TIMEOUT_MS),
      async () => {
        const session = this.indicators.check('migrations');
        if (!this.migrator.isComplete) return session.down({ message: 'migrations are still running' });
        try {
          const pending = await withTimeout(this.migrator.hasPendingMigrations(), DATABASE_TIMEOUT_MS, 'the migrations table did not answer in time');
          return pending ? session.down({ message: 'migrations are pending' }) : session.up();
        } catch (error) {
          return session.down({ message: error instanceof Error ? error.message : 'cannot read migrations' });
        }
      },
      () => {
        const session = this.indicators.check('knowledgeBase');
        const status = this.knowledgeBase.status();
        return status.loaded
          ? session.up({ articles: status.articles, sections: status.sections })
          : session.down({ message: 'knowledge base is loading' });
      },
      () => {
        const session = this.indicators.check('lifecycle');
        return this.lifecycle.isShuttingDown ? session.down({ message: 'shutting down' }) : session.up();
      },
    ]);
  }
}

/** `promise`, or a rejection with `message` after `ms` (a probe must answer while the database hangs). */
function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
