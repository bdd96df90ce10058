import { type DynamicModule, Global, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { AppConfig } from './app-config.js';
import { validateEnvironment } from './environment.js';

export interface AppConfigOptions {
  /**
   * Variables to use instead of process.env and .env (tests pass their own, so nothing leaks in
   * from the machine). Unset: process.env, plus ./.env when that file exists.
   */
  env?: Record<string, string | undefined>;
}

/**
 * Reads the environment once through @nestjs/config, validates it (start-up stops with one line
 * per problem) and provides the typed AppConfig everywhere.
 */
@Global()
@Module({})
export class AppConfigModule {
  static async forRoot(options: AppConfigOptions = {}): Promise<DynamicModule> {
    const explicit = options.env;
    const configModule = await ConfigModule.forRoot({
      cache: true,
      ignoreEnvFile: explicit !== undefined,
      validatePredefined: explicit === undefined,
      validate: (raw) => ({ app: validateEnvironment(explicit ?? raw) }),
    });
    return {
      module: AppConfigModule,
      imports: [configModule],
      providers: [
        {
          provide: AppConfig,
          inject: [ConfigService],
          useFactory: (configService: ConfigService<{ app: AppConfig }, true>) =>
            configService.get('app', { infer: true }),
        },
      ],
      exports: [AppConfig],
    };
  }
}
