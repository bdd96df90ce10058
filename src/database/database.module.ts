import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config/app-config.js';
import { buildDataSourceOptions } from './data-source.options.js';
import { DatabaseMigrator } from './database-migrator.js';
import { SqliteCheckpointer } from './sqlite-checkpointer.js';
import { UnitOfWork } from './unit-of-work.js';

@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        ...buildDataSourceOptions(config.database),
        // Boot fails after ~10 s when the database is unreachable; Kubernetes restarts the pod.
        retryAttempts: 5,
        retryDelay: 2000,
      }),
    }),
  ],
  providers: [UnitOfWork, DatabaseMigrator, SqliteCheckpointer],
  exports: [UnitOfWork, DatabaseMigrator],
})
export class DatabaseModule {}
