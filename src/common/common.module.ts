import { Global, Module } from '@nestjs/common';
import { AdminAuthGuard } from './http/admin-auth.guard.js';
import { Lifecycle } from './lifecycle.js';
import { AppLogger } from './logging/app-logger.js';

@Global()
@Module({
  providers: [AppLogger, Lifecycle, AdminAuthGuard],
  exports: [AppLogger, Lifecycle, AdminAuthGuard],
})
export class CommonModule {}
