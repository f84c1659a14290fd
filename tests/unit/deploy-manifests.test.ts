/**
 * The Kustomize base in deploy/: every object valid against the Kubernetes schemas (kubernetes-models),
 * and what the files must agree on with each other and with the service: ports, probe paths, setting
 * names, secrets kept out of the ConfigMap, shutdown timing, the clients file path and the sizing from
 * bench/README.md.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { Deployment, type IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import {
  HorizontalPodAutoscaler,
  type IHorizontalPodAutoscaler,
} from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import {
  type IPodDisruptionBudget,
  PodDisruptionBudget,
} from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap, type IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import { type IService, Service } from 'kubernetes-models/v1/Service';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadConfig, settingNames } from '../../src/config.ts';

const deployDir = new URL('../../deploy/', import.meta.url);
const read = (file: string) => readFileSync(new URL(file, deployDir), 'utf8');

/** Every document of a YAML file, as plain objects; a YAML error fails the test that reads it. */
function documents(file: string): Array<Record<string, unknown>> {
  return parseAllDocuments(read(file)).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
    return doc.toJS() as Record<string, unknown>;
  });
}

/** The one object a resource file holds. */
function only<T>(file: string): T {
  const docs = documents(file);
  expect(docs, file).toHaveLength(1);
  return docs[0] as T;
}

/** What a Kubernetes quantity means: CPU in cores (`250m`, `1`), memory in bytes (`384Mi`, `1G`). */
function quantity(value: string | number | undefined): number {
  const match = /^(\d+(?:\.\d+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(String(value ?? ''));
  if (!match) throw new Error(`not a quantity: ${value}`);
  const factors: Record<string, number> = {
    '': 1,
    m: 1e-3,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
  };
  return Number(match[1]) * (factors[match[2] ?? ''] as number);
}

const MB = 1e6;
// bench/README.md: RSS idle after start 114 MB and peak 297 MB in the benchmark (run before the storage
// existed); 363 MB at most under the 10-minute mixed-load soak without the embedded database (358.7 MB
// in its middle sample). A replica uses DATABASE_URL, never the embedded database.
const idleRss = 114 * MB;
const benchPeakRss = 297 * MB;
const soakRssWithoutEmbeddedDatabase = 363 * MB;

const secretSettings = ['DATABASE_URL', 'PATIENT_KEY_SECRET', 'ANALYTICS_TOKEN', 'METRICS_TOKEN'];
const settings = settingNames as string[];

const kustomization = only<{
  apiVersion: string;
  kind: string;
  resources: string[];
  images?: Array<{ name: string; newName?: string; newTag?: string }>;
}>('kustomization.yaml');
const deployment = only<IDeployment>('deployment.yaml');
const service = only<IService>('service.yaml');
const hpa = only<IHorizontalPodAutoscaler>('hpa.yaml');
const pdb = only<IPodDisruptionBudget>('pdb.yaml');
const configMap = only<IConfigMap>('configmap.yaml');

const pod = deployment.spec?.template;
const container = pod?.spec?.containers[0] as IContainer;
const configData = configMap.data ?? {};

/** The environment a pod gets: the ConfigMap, and stand-ins for the Secret's values. */
function podEnvironment(): Record<string, string> {
  const secretValues: Record<string, string> = {
    DATABASE_URL: 'postgres://pvp_cds:password@postgres:5432/pvp_cds',
    PATIENT_KEY_SECRET: 'p'.repeat(32),
    ANALYTICS_TOKEN: 'a'.repeat(24),
    METRICS_TOKEN: 'm'.repeat(24),
  };
  const env: Record<string, string> = { ...configData };
  for (const variable of container.env ?? []) {
    env[variable.name] = variable.value ?? secretValues[variable.name] ?? 'from-secret';
  }
  return env;
}

describe('deploy/ Kustomize base', () => {
  it('lists exactly the resource files of the directory', () => {
    expect(kustomization).toMatchObject({
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
    });
    const files = readdirSync(deployDir).filter(
      (f) => /\.ya?ml$/.test(f) && !/^kustomization\.ya?ml$/.test(f),
    );
    expect([...kustomization.resources].sort()).toEqual(files.sort());
    expect(new Set(kustomization.resources).size).toBe(kustomization.resources.length);
    expect(existsSync(new URL('README.md', deployDir))).toBe(true);
  });

  it.each([
    ['deployment.yaml', Deployment],
    ['service.yaml', Service],
    ['hpa.yaml', HorizontalPodAutoscaler],
    ['pdb.yaml', PodDisruptionBudget],
    ['configmap.yaml', ConfigMap],
  ] as const)('%s is valid against the Kubernetes schema', (file, Model) => {
    const object = only<Record<string, unknown>>(file);
    expect(object.apiVersion).toBe(Model.apiVersion);
    expect(object.kind).toBe(Model.kind);
    // biome-ignore lint/suspicious/noExplicitAny: each model takes its own kind's shape, read from YAML.
    expect(() => new Model(object as any).validate()).not.toThrow();
  });

  it.each([
    ['replicas as a string', (d: IDeployment) => ({ ...d, spec: { ...d.spec, replicas: '2' } })],
    ['no selector', (d: IDeployment) => ({ ...d, spec: { ...d.spec, selector: undefined } })],
    [
      'a probe port that is neither a number nor a name',
      (d: IDeployment) => {
        const copy = structuredClone(d);
        (copy.spec?.template.spec?.containers[0]?.livenessProbe?.httpGet as { port: unknown }).port = {};
        return copy;
      },
    ],
  ])('the schema refuses a Deployment with %s', (_what, breakIt) => {
    // biome-ignore lint/suspicious/noExplicitAny: deliberately not a Deployment.
    expect(() => new Deployment(breakIt(deployment) as any).validate()).toThrow();
  });

  it('the schema refuses a ConfigMap value that is not a string and an HPA without its target', () => {
    // biome-ignore lint/suspicious/noExplicitAny: deliberately invalid.
    expect(() => new ConfigMap({ ...configMap, data: { PORT: 3000 } } as any).validate()).toThrow();
    const { scaleTargetRef: _, ...spec } = hpa.spec as NonNullable<IHorizontalPodAutoscaler['spec']>;
    // biome-ignore lint/suspicious/noExplicitAny: deliberately invalid.
    expect(() => new HorizontalPodAutoscaler({ ...hpa, spec } as any).validate()).toThrow();
  });

  it('names everything pvp-cds with the app label', () => {
    for (const object of [deployment, service, hpa, pdb, configMap]) {
      expect(object.metadata?.name).toBe('pvp-cds');
      expect(object.metadata?.labels?.['app.kubernetes.io/name']).toBe('pvp-cds');
    }
    expect(pod?.metadata?.labels?.['app.kubernetes.io/name']).toBe('pvp-cds');
    expect(deployment.spec?.selector.matchLabels).toEqual(pod?.metadata?.labels);
  });

  it('sets the image through kustomize images', () => {
    const imageName = container.image?.split(':')[0];
    expect(kustomization.images?.map((i) => i.name)).toContain(imageName);
  });
});

describe('the Deployment', () => {
  const ports = container.ports ?? [];
  const http = ports.find((p) => p.name === 'http');

  it('listens on the named port http, the PORT of the ConfigMap', () => {
    expect(http?.containerPort).toBe(3000);
    expect(Number(configData.PORT)).toBe(http?.containerPort);
    const annotations = pod?.metadata?.annotations ?? {};
    if (annotations['prometheus.io/port']) expect(Number(annotations['prometheus.io/port'])).toBe(3000);
  });

  it('probes liveness and start-up on /healthz and readiness on /readyz, on the named port', () => {
    expect(container.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(container.startupProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(container.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http' });
    for (const probe of [container.livenessProbe, container.readinessProbe, container.startupProbe]) {
      expect(ports.map((p) => p.name)).toContain(probe?.httpGet?.port);
    }
  });

  it('gives readiness time for a JWK Set fetch and a database ping', () => {
    const config = loadConfig(podEnvironment());
    const timeoutMs = (container.readinessProbe?.timeoutSeconds ?? 1) * 1000;
    expect(timeoutMs).toBeGreaterThan(config.jwksTimeoutMs);
    expect(timeoutMs).toBeGreaterThan(config.databaseTimeoutMs);
  });

  it('is given time to drain: grace period > SHUTDOWN_GRACE_MS + the preStop sleep', () => {
    const command = container.lifecycle?.preStop?.exec?.command ?? [];
    expect(command[0]).toBe('sleep');
    const preStopMs = Number(command[1]) * 1000;
    expect(preStopMs).toBeGreaterThan(0);
    const shutdownGraceMs = loadConfig(podEnvironment()).shutdownGraceMs;
    expect(shutdownGraceMs).toBe(Number(configData.SHUTDOWN_GRACE_MS));
    expect((pod?.spec?.terminationGracePeriodSeconds ?? 30) * 1000).toBeGreaterThan(
      shutdownGraceMs + preStopMs,
    );
  });

  it('rolls out without losing capacity', () => {
    expect(deployment.spec?.strategy).toEqual({
      type: 'RollingUpdate',
      rollingUpdate: { maxUnavailable: 0, maxSurge: 1 },
    });
  });

  it('runs as a non-root user with a read-only root filesystem and no capabilities', () => {
    expect(pod?.spec?.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod?.spec?.securityContext?.runAsUser).toBeGreaterThan(0);
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(container.securityContext?.privileged).not.toBe(true);
  });

  it('requests what a loaded pod uses and limits memory well above the measured peak', () => {
    const { requests = {}, limits = {} } = container.resources ?? {};
    for (const resource of ['cpu', 'memory']) {
      expect(quantity(requests[resource]), resource).toBeLessThanOrEqual(quantity(limits[resource]));
    }
    expect(quantity(requests.memory)).toBeGreaterThanOrEqual(
      Math.max(idleRss, soakRssWithoutEmbeddedDatabase),
    );
    expect(quantity(limits.memory)).toBeGreaterThanOrEqual(1.5 * benchPeakRss);
    expect(quantity(limits.memory)).toBeGreaterThanOrEqual(1.5 * soakRssWithoutEmbeddedDatabase);
    expect(quantity(requests.cpu)).toBeGreaterThan(0);
  });

  it('takes the ConfigMap whole and each secret from the Secret, by setting name', () => {
    expect(container.envFrom).toEqual([{ configMapRef: { name: configMap.metadata?.name } }]);
    const env = container.env ?? [];
    for (const variable of env) expect(settings, variable.name).toContain(variable.name);
    const fromSecret = env.filter((v) => v.valueFrom?.secretKeyRef);
    expect(fromSecret.map((v) => v.name).sort()).toEqual([...secretSettings].sort());
    for (const variable of fromSecret) expect(variable.valueFrom?.secretKeyRef?.name).toBe('pvp-cds');
    // Literal values would be in the manifest: secrets only come by reference.
    for (const name of secretSettings) expect(env.find((v) => v.name === name)?.value).toBeUndefined();
    const optional = (name: string) =>
      env.find((v) => v.name === name)?.valueFrom?.secretKeyRef?.optional === true;
    // Replicas must share a database: a pod without DATABASE_URL must not start on an embedded one.
    expect(optional('DATABASE_URL')).toBe(false);
    expect(optional('METRICS_TOKEN')).toBe(true);
  });

  it('mounts the trusted clients file read-only where CDS_CLIENTS_FILE points', () => {
    const volume = pod?.spec?.volumes?.find((v) => v.secret?.secretName === 'pvp-cds-clients');
    expect(volume?.secret?.items).toEqual([{ key: 'clients.json', path: 'clients.json' }]);
    const mount = container.volumeMounts?.find((m) => m.name === volume?.name);
    expect(mount?.readOnly).toBe(true);
    const file = mount?.subPath ? mount.mountPath : `${mount?.mountPath.replace(/\/+$/, '')}/clients.json`;
    expect(configData.CDS_CLIENTS_FILE).toBe(file);
    expect(file).toBe('/etc/pvp-cds/clients.json');
  });
});

describe('the ConfigMap', () => {
  it('holds only setting names, as strings, and no secret', () => {
    expect(Object.keys(configData).length).toBeGreaterThan(0);
    for (const [name, value] of Object.entries(configData)) {
      expect(settings, name).toContain(name);
      expect(secretSettings, name).not.toContain(name);
      expect(typeof value, name).toBe('string');
    }
    expect(configMap.binaryData).toBeUndefined();
  });

  it('with the Secret, is a valid production configuration', () => {
    const config = loadConfig(podEnvironment());
    expect(config).toMatchObject({
      nodeEnv: 'production',
      host: '0.0.0.0',
      port: 3000,
      logFormat: 'json',
      clientsFile: '/etc/pvp-cds/clients.json',
    });
    expect(config.publicBaseUrl).toMatch(/^https:\/\//);
    expect(config.databaseUrl).toBeDefined();
  });
});

describe('the Service, HPA and PDB', () => {
  const podLabels = pod?.metadata?.labels ?? {};
  const matches = (selector: Record<string, string> | undefined) =>
    Object.keys(selector ?? {}).length > 0 &&
    Object.entries(selector ?? {}).every(([key, value]) => podLabels[key] === value);

  it('the Service sends port 80 to the named container port of the pods', () => {
    expect(service.spec?.type ?? 'ClusterIP').toBe('ClusterIP');
    expect(matches(service.spec?.selector)).toBe(true);
    const [port] = service.spec?.ports ?? [];
    expect(port?.port).toBe(80);
    expect(container.ports?.map((p) => p.name)).toContain(port?.targetPort);
  });

  it('the HPA scales the Deployment between at least 2 and its maximum', () => {
    const spec = hpa.spec as NonNullable<IHorizontalPodAutoscaler['spec']>;
    expect(spec.scaleTargetRef).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: deployment.metadata?.name,
    });
    const min = spec.minReplicas ?? 1;
    expect(min).toBeGreaterThanOrEqual(2);
    expect(min).toBeLessThanOrEqual(spec.maxReplicas);
    expect(deployment.spec?.replicas).toBeGreaterThanOrEqual(min);
    expect(deployment.spec?.replicas).toBeLessThanOrEqual(spec.maxReplicas);
    expect(spec.metrics?.[0]?.resource).toEqual({
      name: 'cpu',
      target: { type: 'Utilization', averageUtilization: 70 },
    });
    expect(spec.behavior?.scaleDown?.stabilizationWindowSeconds).toBe(300);
  });

  it('the PDB selects the pods and leaves room to evict one of the minimum replicas', () => {
    const spec = pdb.spec as NonNullable<IPodDisruptionBudget['spec']>;
    expect(matches(spec.selector?.matchLabels)).toBe(true);
    expect(typeof spec.minAvailable).toBe('number');
    expect(spec.minAvailable as number).toBeGreaterThanOrEqual(1);
    expect(spec.minAvailable as number).toBeLessThan(hpa.spec?.minReplicas ?? 1);
  });

  it('reads quantities as Kubernetes does', () => {
    expect(quantity('250m')).toBe(0.25);
    expect(quantity('1')).toBe(1);
    expect(quantity('512Mi')).toBe(536_870_912);
    expect(quantity('1G')).toBe(1e9);
    expect(() => quantity('lots')).toThrow();
  });
});
