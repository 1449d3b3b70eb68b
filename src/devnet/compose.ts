/**
 * Reads docker-compose.yml and turns each service into a local process plan: its own 127.0.2.x address (or another block's), its
 * command and environment from the file, service names in the environment rewritten to those addresses, named
 * volumes to folders. The devnet runner is driven by this plan alone, so the file and the runner cannot drift.
 */
import { CodedError } from '../codec/errors.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';

export type Role = 'evm' | 'anchor' | 'operator' | 'validator' | 'client';

export interface ServicePlan {
  readonly name: string;
  readonly role: Role;
  readonly address: string;
  /** Arguments after `sortition-node`. */
  readonly args: string[];
  /** The service's environment from the file, rewritten for local processes. */
  readonly env: Record<string, string>;
  /** Environment exactly as written in the file. */
  readonly fileEnv: Record<string, string>;
  readonly dependsOn: string[];
  readonly profiles: string[];
  /** URL polled for health (from the healthcheck), rewritten to the service's address. */
  readonly healthUrl: string | null;
  readonly dataDirs: string[];
  /** Compose labels, e.g. `sortition.fault-target`. */
  readonly labels: Record<string, string>;
}

export class ComposeError extends CodedError<'COMPOSE_INVALID'> {
  override readonly name = 'ComposeError';
  constructor(message: string, options?: ErrorOptions) {
    super('COMPOSE_INVALID', message, options);
  }
}

export interface RawService {
  image?: string;
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  depends_on?: string[] | Record<string, unknown>;
  profiles?: string[];
  healthcheck?: { test?: string | string[] };
  volumes?: (string | { source?: string; target?: string })[];
  labels?: Record<string, string> | string[];
}

function envOf(raw: RawService['environment']): Record<string, string> {
  if (!raw) return {};
  if (Array.isArray(raw)) {
    return Object.fromEntries(
      raw.map((kv) => {
        const i = kv.indexOf('=');
        return i < 0 ? [kv, ''] : [kv.slice(0, i), kv.slice(i + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

function roleOf(name: string, args: string[]): Role {
  switch (args[0]) {
    case 'anchor':
      return 'anchor';
    case 'operator':
      return 'operator';
    case 'run':
      return 'validator';
    case 'evm':
      // `evm node`: the devnet's EVM chain; other `evm` subcommands (deploy, status) are one-shot clients.
      if (args[1] === 'node') return 'evm';
      return 'client';
    default:
      if (!args[0]) throw new ComposeError(`service ${name} has no command`);
      return 'client';
  }
}

/** The devnet's default address block: away from 127.0.0.1, which tests and benchmarks use. */
export const DEFAULT_SUBNET = '127.0.2';

/** A loopback /24 as its first three octets (`127.0.3`): devnets on different blocks never share an address. */
export function checkSubnet(subnet: string): string {
  const m = /^127\.(\d{1,3})\.(\d{1,3})$/.exec(subnet);
  if (!m || Number(m[1]) > 255 || Number(m[2]) > 255 || (m[1] === '0' && m[2] === '0'))
    throw new ComposeError(
      `subnet ${subnet}: give three octets of a loopback block other than 127.0.0, e.g. 127.0.3`,
    );
  return subnet;
}

/** <subnet>.1, <subnet>.2, ...: one address per service. */
export function addressFor(index: number, subnet = DEFAULT_SUBNET): string {
  if (index > 250) throw new ComposeError('at most 250 services');
  return `${subnet}.${index + 1}`;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Replaces service names by addresses in URLs and multiaddrs, and any-address binds by the service's own. */
export function rewriteValue(
  value: string,
  own: string,
  addresses: ReadonlyMap<string, string>,
  mounts: ReadonlyMap<string, string>,
): string {
  let v = value.replace(/\/ip4\/0\.0\.0\.0\//g, `/ip4/${own}/`);
  if (v === '0.0.0.0') v = own;
  for (const [svc, ip] of addresses) {
    const s = escape(svc);
    v = v
      .replace(new RegExp(`(https?://)${s}(?=[:/]|$)`, 'g'), `$1${ip}`)
      .replace(new RegExp(`/dns[46]?/${s}(?=/)`, 'g'), `/ip4/${ip}`);
  }
  for (const [target, local] of mounts) {
    if (v === target || v.startsWith(target + '/')) v = local + v.slice(target.length);
  }
  return v;
}

export interface PlanOptions {
  /** Folder for volumes and logs. */
  readonly workDir: string;
  /** Profiles to enable besides the default (services without a profile). */
  readonly profiles?: string[];
  /** The address block services get (default 127.0.2): `127.0.3` gives 127.0.3.1, 127.0.3.2, ... */
  readonly subnet?: string;
}

export function loadCompose(path: string): Record<string, RawService> {
  let doc: { services?: Record<string, RawService> };
  try {
    doc = YAML.parse(readFileSync(path, 'utf8'), { merge: true }) as typeof doc;
  } catch (e) {
    throw new ComposeError(`cannot read ${path}: ${(e as Error).message}`);
  }
  if (!doc?.services || typeof doc.services !== 'object') throw new ComposeError(`${path} has no services`);
  return doc.services;
}

/**
 * Whether a service runs this project's image, and so can run as a local process. Others (Prometheus and Grafana
 * in the monitoring profile) exist only in a container engine; the local runner leaves them out.
 */
export function isNodeImage(raw: RawService): boolean {
  return raw.image === undefined || raw.image.startsWith('sortition-node:');
}

export function planServices(services: Record<string, RawService>, opts: PlanOptions): ServicePlan[] {
  const enabled = new Set(opts.profiles ?? []);
  const names = Object.keys(services).filter((n) => {
    const p = services[n].profiles ?? [];
    return (p.length === 0 || p.some((x) => enabled.has(x))) && isNodeImage(services[n]);
  });
  const subnet = checkSubnet(opts.subnet ?? DEFAULT_SUBNET);
  const addresses = new Map(names.map((n, i) => [n, addressFor(i, subnet)]));
  return names.map((name) => {
    const raw = services[name];
    const own = addresses.get(name)!;
    const mounts = new Map<string, string>();
    for (const vol of raw.volumes ?? []) {
      const [source, target] = typeof vol === 'string' ? vol.split(':') : [vol.source, vol.target];
      if (source && target)
        mounts.set(target, join(opts.workDir, 'volumes', source.replace(/[^\w.-]/g, '_')));
    }
    const fileArgs = Array.isArray(raw.command)
      ? raw.command.map(String)
      : raw.command
        ? raw.command.split(/\s+/).filter(Boolean)
        : [];
    const args = fileArgs.map((a) => rewriteValue(a, own, addresses, mounts));
    const fileEnv = envOf(raw.environment);
    const env = Object.fromEntries(
      Object.entries(fileEnv).map(([k, v]) => [k, rewriteValue(v, own, addresses, mounts)]),
    );
    const deps = Array.isArray(raw.depends_on) ? raw.depends_on : Object.keys(raw.depends_on ?? {});
    const test = raw.healthcheck?.test;
    const testText = Array.isArray(test) ? test.join(' ') : (test ?? '');
    const url = /https?:\/\/[^\s'")]+/.exec(testText)?.[0] ?? null;
    const healthUrl = url
      ? url.replace(/(https?:\/\/)(localhost|127\.0\.0\.1|0\.0\.0\.0)/, `$1${own}`)
      : null;
    return {
      name,
      role: roleOf(name, fileArgs),
      address: own,
      args,
      env,
      fileEnv,
      dependsOn: deps.filter((d) => addresses.has(d)),
      profiles: raw.profiles ?? [],
      healthUrl,
      dataDirs: [...mounts.values()],
      labels: envOf(raw.labels),
    };
  });
}

/** The template validator cloned into `count` validators named <prefix>-1..N (the file's own ones replaced). */
export function scaleValidators(
  services: Record<string, RawService>,
  count: number,
): Record<string, RawService> {
  const validators = Object.keys(services).filter((n) => {
    const c = services[n].command;
    return (
      (Array.isArray(c) ? c[0] : c?.split(/\s+/)[0]) === 'run' && (services[n].profiles ?? []).length === 0
    );
  });
  if (validators.length === 0) throw new ComposeError('no validator service to scale');
  const template = services[validators[0]];
  const prefix = validators[0].replace(/-?\d+$/, '');
  const out: Record<string, RawService> = {};
  for (const [n, s] of Object.entries(services)) if (!validators.includes(n)) out[n] = s;
  for (let i = 1; i <= count; i++) {
    const name = `${prefix}-${i}`;
    const vols = (template.volumes ?? []).map((v) =>
      typeof v === 'string' ? v.replace(/^[^:]+/, `${name}-data`) : v,
    );
    out[name] = { ...template, volumes: vols };
  }
  return out;
}
