import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

/**
 * The process-level suites run the compiled service (`node dist/src/main.js`, what `npm run
 * start:prod` runs), so compile it once before any suite starts.
 */
export default function setup(): void {
  execFileSync(process.execPath, [resolve('node_modules/@nestjs/cli/bin/nest.js'), 'build'], { stdio: 'inherit' });
}
