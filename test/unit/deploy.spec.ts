import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PATH_METADATA } from '@nestjs/common/constants.js';
import { parseAllDocuments } from 'yaml';
import { ENVIRONMENT_VARIABLE_NAMES, EnvironmentValidationError, validateEnvironment } from '../../src/config/environment.js';
import { HealthController } from '../../src/health/health.controller.js';

/**
 * The image and the Kubernetes manifest cannot be built or applied here (no Docker daemon, no
 * cluster), so what can drift from the code is checked instead: variable names, probe paths,
 * ports, the shutdown budget and the Node flags.
 */
interface Probe {
  httpGet: { path: string; port: string };
}
interface Container {
  ports: Array<{ name: string; containerPort: number }>;
  env?: Array<{ name: string }>;
  envFrom: unknown;
  startupProbe: Probe;
  livenessProbe: Probe;
  readinessProbe: Probe;
  lifecycle: { preStop: { exec: { command: string[] } } };
  securityContext: { readOnlyRootFilesystem?: boolean };
  volumeMounts: Array<{ mountPath: string }>;
}
interface ManifestDocument {
  kind: string;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  spec?: {
    template?: { spec: { terminationGracePeriodSeconds: number; securityContext: Record<string, unknown>; containers: Container[] } };
    ports?: Array<{ targetPort: string }>;
  };
}

const ROOT = join(import.meta.dirname, '../..');
const manifest = parseAllDocuments(readFileSync(join(ROOT, 'deploy/kubernetes.yaml'), 'utf8')).map((doc) => {
  expect(doc.errors).toEqual([]);
  return doc.toJS() as ManifestDocument;
});
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const startProd: string = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts['start:prod'];

/** The route of a HealthController handler, as Nest will mount it. */
function healthRoute(handler: 'live' | 'ready'): string {
  const base: string = Reflect.getMetadata(PATH_METADATA, HealthController);
  const path: string = Reflect.getMetadata(PATH_METADATA, HealthController.prototype[handler]);
  return `/${base}/${path}`;
}

function one(kind: string) {
  const found = manifest.filter((doc) => doc.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0];
}

const configMap = one('ConfigMap').data!;
const secret = one('Secret').stringData!;
const pod = one('Deployment').spec!.template!.spec;
const container = pod.containers[0];
/** The manifest's configuration with its placeholder secrets filled in, as an operator would. */
const filledEnv = { ...configMap, ...secret, WEBHOOK_SECRET: 'w'.repeat(32), ADMIN_API_KEY: 'a'.repeat(32) };

describe('deploy/kubernetes.yaml', () => {
  it('sets only variables the service reads', () => {
    const names = [...Object.keys(configMap), ...Object.keys(secret), ...(container.env ?? []).map((e) => e.name)];
    expect(names.length).toBeGreaterThan(10);
    expect(names.filter((name) => !(ENVIRONMENT_VARIABLE_NAMES as readonly string[]).includes(name))).toEqual([]);
    expect(container.envFrom).toEqual([{ configMapRef: { name: 'ai-support' } }, { secretRef: { name: 'ai-support' } }]);
  });

  it('is refused with its placeholders and accepted once the secrets are filled in', () => {
    const env = { ...configMap, ...secret };
    let problems: string[] = [];
    try {
      validateEnvironment(env);
    } catch (error) {
      if (!(error instanceof EnvironmentValidationError)) throw error;
      problems = error.problems;
    }
    expect(problems.some((p) => p.includes('WEBHOOK_SECRET'))).toBe(true);
    expect(problems.some((p) => p.includes('ADMIN_API_KEY'))).toBe(true);

    const config = validateEnvironment(filledEnv);
    expect(config.database).toMatchObject({ type: 'postgres', host: 'postgres', database: 'ai_support' });
    expect(config.http.port).toBe(8000);
  });

  it('probes the health routes on the port the service listens on', () => {
    const port = container.ports.find((p) => p.name === 'http')!.containerPort;
    expect(port).toBe(Number(configMap.PORT));
    expect(dockerfile).toMatch(new RegExp(`^EXPOSE ${port}$`, 'm'));
    expect(healthRoute('live')).toBe('/health/live');
    expect(container.startupProbe.httpGet).toEqual({ path: healthRoute('live'), port: 'http' });
    expect(container.livenessProbe.httpGet).toEqual({ path: healthRoute('live'), port: 'http' });
    expect(container.readinessProbe.httpGet).toEqual({ path: healthRoute('ready'), port: 'http' });
    expect(one('Service').spec!.ports![0].targetPort).toBe('http');
  });

  it('gives the drain time to finish before the kubelet kills the pod', () => {
    const preStopSeconds = Number(container.lifecycle.preStop.exec.command[1]);
    const drainSeconds = validateEnvironment(filledEnv).http.shutdownTimeoutMs / 1000;
    // main.ts exits on its own 5 s after the drain budget if closing hangs.
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(preStopSeconds + drainSeconds + 5);
  });

  it('runs as the image user with a read-only root and writable /app/data', () => {
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(container.volumeMounts.map((m) => m.mountPath)).toContain('/app/data');
  });
});

describe('Dockerfile', () => {
  it('starts the service exactly as `npm run start:prod` does, without npm in between', () => {
    const cmd = /^CMD (\[.*\])$/m.exec(dockerfile);
    expect(cmd).not.toBeNull();
    expect(JSON.parse(cmd![1])).toEqual(startProd.split(/\s+/));
  });

  it('copies everything the runtime needs and no test or bench code', () => {
    const copies = [...dockerfile.matchAll(/^COPY (?:--from=build )?(\S+) (\S+)$/gm)].map((m) => `${m[1]} ${m[2]}`);
    // package.json carries "type": "module": without it Node cannot load dist/.
    for (const copy of ['/app/package.json ./', '/app/node_modules ./node_modules', '/app/dist ./dist', 'knowledge-base ./knowledge-base']) {
      expect(copies).toContain(copy);
    }
    expect(dockerfile).toMatch(/^RUN npm run build && npm prune --omit=dev$/m);
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const path of ['.env', 'node_modules', 'test', 'bench', 'data']) expect(ignored).toContain(path);
  });
});
