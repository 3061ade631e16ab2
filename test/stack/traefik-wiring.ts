// Static checks of the stack's Traefik wiring and deploy policy, run on `docker stack config`
// output (the real Docker CLI's view of the files, anchors and interpolation resolved) plus
// Traefik's static and dynamic files. Returns human-readable problems; empty means sound.
import { parse } from 'yaml';

/** YAML as these checks read it: every scalar a string (numbers and booleans too), null/~/empty null. */
export type YamlValue = string | null | YamlValue[] | { [key: string]: YamlValue };

/** Stack and Traefik YAML through the yaml package's failsafe schema (strings only) plus null. */
export function parseYaml(source: string): YamlValue {
  return parse(source, { schema: 'failsafe', customTags: ['null'] }) as YamlValue;
}

type Obj = { [key: string]: YamlValue };

export interface WiringInput {
  stackName: string;
  /** Parsed `docker stack config` output. */
  stack: YamlValue;
  /** Parsed traefik/traefik.yml. */
  traefikStatic: YamlValue;
  /** Parsed traefik/dynamic/*.yml, by file name. */
  dynamic: Record<string, YamlValue>;
  /** Services that must not use start-first updates, with the reason (documented in the stack). */
  stopFirst?: Record<string, string>;
}

const obj = (v: YamlValue | undefined): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? v : {});
const list = (v: YamlValue | undefined): YamlValue[] => (Array.isArray(v) ? v : []);
const str = (v: YamlValue | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
const csv = (v: string | undefined): string[] => (v ? v.split(',').map((s) => s.trim()).filter(Boolean) : []);

/** Go duration text as printed by the Docker CLI ("1m30s", "15s", "500ms") to milliseconds. */
export function durationMs(text: string | undefined): number | undefined {
  if (!text) return undefined;
  let total = 0;
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
  let matched = '';
  for (let m = re.exec(text); m; m = re.exec(text)) {
    matched += m[0];
    total += Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  }
  return matched === text ? total : undefined;
}

/** Names a router/middleware reference points to: `x` or `x@swarm` → swarm, `x@file` → file. */
function splitRef(ref: string): { name: string; provider: string } {
  const at = ref.lastIndexOf('@');
  return at < 0 ? { name: ref, provider: 'swarm' } : { name: ref.slice(0, at), provider: ref.slice(at + 1) };
}

interface LabelModel {
  /** protocol → kind → name → { property path → value, owner swarm service } */
  defs: Record<'http' | 'tcp', Record<'routers' | 'services' | 'middlewares', Map<string, { props: Map<string, string>; owner: string }>>>;
}

function emptyDefs(): LabelModel['defs'] {
  const kinds = () => ({ routers: new Map(), services: new Map(), middlewares: new Map() });
  return { http: kinds(), tcp: kinds() };
}

export function checkStack(input: WiringInput): string[] {
  const problems: string[] = [];
  const services = obj(obj(input.stack).services);
  const stackNetworks = obj(obj(input.stack).networks);
  const entryPoints = obj(obj(input.traefikStatic).entryPoints);
  const defs = emptyDefs();
  const stopFirst = input.stopFirst ?? {};

  const traefikName = Object.keys(services).find((name) => str(obj(services[name]).image)?.startsWith('traefik:'));
  const traefikNets = traefikName ? Object.keys(obj(obj(services[traefikName]).networks)) : [];
  if (!traefikName) problems.push('no traefik service (image traefik:...) in the stack');

  // Collect label definitions per swarm service.
  for (const [svcName, svcValue] of Object.entries(services)) {
    const svc = obj(svcValue);
    const containerLabels = Object.keys(obj(svc.labels)).filter((k) => k.startsWith('traefik.'));
    if (containerLabels.length > 0) problems.push(`${svcName}: traefik labels must be under deploy.labels, not labels (${containerLabels[0]})`);
    const labels = obj(obj(svc.deploy).labels);
    const traefikLabels = Object.entries(labels).filter(([k]) => k.startsWith('traefik.'));
    if (traefikLabels.length === 0) continue;
    if (str(labels['traefik.enable']) !== 'true') problems.push(`${svcName}: has traefik labels but traefik.enable is not "true"`);

    const network = str(labels['traefik.swarm.network']);
    const svcNets = Object.keys(obj(svc.networks));
    if (Object.keys(labels).some((k) => k.startsWith('traefik.docker.'))) {
      problems.push(`${svcName}: traefik.docker.* labels are the Docker provider's; use traefik.swarm.*`);
    }
    if (!network) problems.push(`${svcName}: missing traefik.swarm.network`);
    else {
      const prefix = `${input.stackName}_`;
      const bare = network.startsWith(prefix) ? network.slice(prefix.length) : undefined;
      if (bare === undefined) problems.push(`${svcName}: traefik.swarm.network "${network}" lacks the stack prefix "${prefix}"`);
      else if (!svcNets.includes(bare)) problems.push(`${svcName}: traefik.swarm.network "${network}" is not one of its networks (${svcNets.join(', ')})`);
      else if (!traefikNets.includes(bare)) problems.push(`${svcName}: traefik.swarm.network "${network}" is not a network Traefik is on`);
    }

    for (const [key, value] of traefikLabels) {
      const m = /^traefik\.(http|tcp)\.(routers|services|middlewares)\.([^.]+)\.(.+)$/.exec(key);
      if (!m) {
        if (!/^traefik\.(enable|swarm\.network|swarm\.lbswarm)$/.test(key)) problems.push(`${svcName}: unrecognised traefik label ${key}`);
        continue;
      }
      const [, proto, kind, name, prop] = m as unknown as [string, 'http' | 'tcp', 'routers' | 'services' | 'middlewares', string, string];
      const table = defs[proto][kind];
      const existing = table.get(name);
      if (existing && existing.owner !== svcName) {
        problems.push(`${proto} ${kind.slice(0, -1)} "${name}" is defined by both ${existing.owner} and ${svcName}`);
        continue;
      }
      const entry = existing ?? { props: new Map<string, string>(), owner: svcName };
      entry.props.set(prop.toLowerCase(), str(value) ?? '');
      table.set(name, entry);
    }
  }

  // Dynamic (file provider) definitions.
  const fileDefs = emptyDefs();
  const fileTransports = { http: new Set<string>(), tcp: new Set<string>() };
  for (const [file, doc] of Object.entries(input.dynamic)) {
    for (const proto of ['http', 'tcp'] as const) {
      const section = obj(obj(doc)[proto]);
      for (const kind of ['routers', 'services', 'middlewares'] as const) {
        for (const [name, def] of Object.entries(obj(section[kind]))) {
          if (fileDefs[proto][kind].has(name)) problems.push(`${file}: ${proto} ${kind} "${name}" defined twice in the file provider`);
          const props = new Map<string, string>([['__file', file]]);
          fileDefs[proto][kind].set(name, { props, owner: file });
          void def;
        }
      }
      for (const name of Object.keys(obj(section.serversTransports))) fileTransports[proto].add(name);
    }
  }

  const exists = (proto: 'http' | 'tcp', kind: 'services' | 'middlewares', ref: string): boolean => {
    const { name, provider } = splitRef(ref);
    if (provider === 'swarm') return defs[proto][kind].has(name);
    if (provider === 'file') return fileDefs[proto][kind].has(name);
    if (provider === 'internal') return true;
    return false;
  };

  const checkEntryPoints = (where: string, proto: 'http' | 'tcp', eps: string[]) => {
    if (eps.length === 0) problems.push(`${where}: no entrypoints`);
    for (const ep of eps) {
      const def = obj(entryPoints[ep]);
      if (!entryPoints[ep]) problems.push(`${where}: entrypoint "${ep}" is not defined in traefik.yml`);
      else {
        const udp = str(def.address)?.endsWith('/udp');
        const plainTcp = str(def.address)?.endsWith('/tcp') && !def.http;
        if (udp) problems.push(`${where}: entrypoint "${ep}" is UDP`);
        if (proto === 'http' && plainTcp && ep === 'devices') problems.push(`${where}: HTTP router on the devices entrypoint`);
      }
    }
  };

  // Swarm routers.
  for (const proto of ['http', 'tcp'] as const) {
    for (const [name, { props, owner }] of defs[proto].routers) {
      const where = `${owner}: ${proto} router "${name}"`;
      const rule = props.get('rule');
      if (!rule) problems.push(`${where}: no rule`);
      else if (proto === 'tcp' && !/^HostSNI(Regexp)?\(/.test(rule)) problems.push(`${where}: TCP rule must be HostSNI(...)`);
      checkEntryPoints(where, proto, csv(props.get('entrypoints')));
      const service = props.get('service');
      if (!service) problems.push(`${where}: no explicit service label`);
      else if (!exists(proto, 'services', service)) problems.push(`${where}: service "${service}" does not exist`);
      for (const mw of csv(props.get('middlewares'))) {
        if (!exists(proto, 'middlewares', mw)) problems.push(`${where}: middleware "${mw}" does not exist`);
      }
    }

    // Swarm services: port matches what the owning service listens on; transports exist.
    for (const [name, { props, owner }] of defs[proto].services) {
      const where = `${owner}: ${proto} service "${name}"`;
      const port = props.get('loadbalancer.server.port');
      const env = obj(obj(services[owner]).environment);
      const listens = str(proto === 'http' ? env.PORT : env.DEVICE_PORT);
      if (!port) problems.push(`${where}: no loadbalancer.server.port label (Swarm requires it)`);
      else if (!listens) problems.push(`${where}: ${owner} sets no ${proto === 'http' ? 'PORT' : 'DEVICE_PORT'} to compare the port label with`);
      else if (port !== listens) problems.push(`${where}: port label ${port} but ${owner} listens on ${listens}`);
      const hc = props.get('loadbalancer.healthcheck.path');
      if (proto === 'http' && hc !== '/readyz') problems.push(`${where}: health check path is ${hc ?? 'unset'}, expected /readyz`);
      const transport = props.get('loadbalancer.serverstransport');
      if (transport) {
        const { name: tName, provider } = splitRef(transport);
        if (provider !== 'file' || !fileTransports[proto].has(tName)) problems.push(`${where}: serversTransport "${transport}" does not exist`);
      }
    }
    for (const [name, { props, owner }] of defs[proto].middlewares) {
      if (props.size === 0) problems.push(`${owner}: ${proto} middleware "${name}" has no settings`);
    }
  }

  // File-provider routers and weighted services must point at existing definitions.
  for (const [file, doc] of Object.entries(input.dynamic)) {
    for (const proto of ['http', 'tcp'] as const) {
      const section = obj(obj(doc)[proto]);
      for (const [name, def] of Object.entries(obj(section.routers))) {
        const where = `${file}: ${proto} router "${name}"`;
        const router = obj(def);
        if (!str(router.rule)) problems.push(`${where}: no rule`);
        checkEntryPoints(where, proto, list(router.entryPoints).map((e) => str(e) ?? ''));
        const service = str(router.service);
        if (!service) problems.push(`${where}: no service`);
        else if (!exists(proto, 'services', service.includes('@') ? service : `${service}@file`)) problems.push(`${where}: service "${service}" does not exist`);
        for (const mw of list(router.middlewares).map((m) => str(m) ?? '')) {
          if (!exists(proto, 'middlewares', mw.includes('@') ? mw : `${mw}@file`)) problems.push(`${where}: middleware "${mw}" does not exist`);
        }
      }
      for (const [name, def] of Object.entries(obj(section.services))) {
        for (const member of list(obj(obj(def).weighted).services)) {
          const ref = str(obj(member).name) ?? '';
          if (!exists(proto, 'services', ref.includes('@') ? ref : `${ref}@file`)) {
            problems.push(`${file}: weighted service "${name}" refers to missing service "${ref}"`);
          }
        }
      }
    }
  }

  checkTls(input, defs, services, traefikName, problems);

  // A catch-all router (the console at PathPrefix(`/`)) must rank below every other HTTP router on
  // its entrypoints, label- or file-defined; Traefik's default priority is the rule's length.
  const httpRouters: { where: string; rule: string; priority: number; explicit: boolean; entryPoints: string[] }[] = [];
  for (const [name, { props, owner }] of defs.http.routers) {
    const rule = props.get('rule') ?? '';
    const explicit = props.get('priority');
    httpRouters.push({ where: `${owner}: http router "${name}"`, rule, priority: explicit ? Number(explicit) : rule.length, explicit: Boolean(explicit), entryPoints: csv(props.get('entrypoints')) });
  }
  for (const [file, doc] of Object.entries(input.dynamic)) {
    for (const [name, def] of Object.entries(obj(obj(obj(doc).http).routers))) {
      const router = obj(def);
      const rule = str(router.rule) ?? '';
      const explicit = router.priority !== undefined ? String(router.priority) : undefined;
      httpRouters.push({ where: `${file}: http router "${name}"`, rule, priority: explicit ? Number(explicit) : rule.length, explicit: Boolean(explicit), entryPoints: list(router.entryPoints).map((e) => str(e) ?? '') });
    }
  }
  for (const catchAll of httpRouters.filter((r) => /^PathPrefix\(`\/`\)$/.test(r.rule.trim()))) {
    if (!catchAll.explicit) problems.push(`${catchAll.where}: catch-all rule without an explicit priority (its rule length would outrank shorter rules)`);
    for (const other of httpRouters) {
      if (other === catchAll || !other.entryPoints.some((ep) => catchAll.entryPoints.includes(ep))) continue;
      if (other.priority <= catchAll.priority) problems.push(`${catchAll.where}: priority ${catchAll.priority} does not rank below ${other.where} (${other.priority})`);
    }
  }

  // Network isolation: Traefik never on the data network; data networks internal.
  for (const [net, def] of Object.entries(stackNetworks)) {
    const members = Object.entries(services).filter(([, s]) => Object.keys(obj(obj(s).networks)).includes(net)).map(([n]) => n);
    const hasDb = members.some((m) => /^(postgres|redis)/.test(str(obj(services[m]).image) ?? ''));
    if (hasDb && traefikName && members.includes(traefikName)) problems.push(`network ${net}: Traefik shares it with postgres/redis`);
    if (hasDb && str(obj(def).internal) !== 'true') problems.push(`network ${net}: carries postgres/redis but is not internal`);
  }

  // Deploy policy for every service.
  for (const [svcName, svcValue] of Object.entries(services)) {
    const svc = obj(svcValue);
    const deploy = obj(svc.deploy);
    if (str(deploy.mode) !== 'global' && deploy.replicas === undefined) problems.push(`${svcName}: no replicas`);
    const update = obj(deploy.update_config);
    const expectedOrder = stopFirst[svcName] ? 'stop-first' : 'start-first';
    if (str(update.order) !== expectedOrder) problems.push(`${svcName}: update_config.order is ${str(update.order) ?? 'unset'}, expected ${expectedOrder}`);
    if (str(update.failure_action) !== 'rollback') problems.push(`${svcName}: update_config.failure_action is not rollback`);
    if (!deploy.rollback_config) problems.push(`${svcName}: no rollback_config`);
    if (!deploy.restart_policy) problems.push(`${svcName}: no restart_policy`);
    const limits = obj(obj(deploy.resources).limits);
    if (!limits.cpus || !limits.memory) problems.push(`${svcName}: no CPU/memory limits`);
    const grace = durationMs(str(svc.stop_grace_period));
    const drain = Number(str(obj(svc.environment).SHUTDOWN_GRACE_MS) ?? 10_000);
    if (grace === undefined) problems.push(`${svcName}: no stop_grace_period`);
    else if (str(svc.image)?.startsWith('traefik:')) {
      for (const [ep, def] of Object.entries(entryPoints)) {
        const t = durationMs(str(obj(obj(obj(def).transport).lifeCycle).graceTimeOut)) ?? 10_000;
        if (grace <= t) problems.push(`${svcName}: stop_grace_period ${grace} ms is not longer than entrypoint ${ep}'s graceTimeOut ${t} ms`);
      }
    } else if (grace <= drain) problems.push(`${svcName}: stop_grace_period ${grace} ms is not longer than its drain (SHUTDOWN_GRACE_MS ${drain})`);
    if (str(svc.image)?.includes('/') && !svc.healthcheck) problems.push(`${svcName}: no healthcheck`);
    // device-tcp drains for SHUTDOWN_GRACE_MS - 1.5 s (services/device-tcp/src/server.ts): displays
    // told to reconnect must be back before it ends, i.e. while another replica is certainly up.
    if (obj(svc.environment).DEVICE_PORT !== undefined) {
      const reconnectMax = Number(str(obj(svc.environment).DRAIN_RECONNECT_MAX_MS) ?? 30_000);
      if (reconnectMax >= drain - 1_500) problems.push(`${svcName}: DRAIN_RECONNECT_MAX_MS ${reconnectMax} ms does not end within its drain (SHUTDOWN_GRACE_MS ${drain} - 1500 ms)`);
    }
    if (str(svc.image)?.includes('postgres') && str(svc.stop_signal) !== 'SIGINT') problems.push(`${svcName}: stop_signal is ${str(svc.stop_signal) ?? 'SIGTERM'}, PostgreSQL needs SIGINT (fast shutdown)`);

    // Secrets only as files: no credential-looking variable carries a value.
    for (const [key, value] of Object.entries(obj(svc.environment))) {
      if (/(PASSWORD|SECRET|PRIVATE_KEY|TOKEN)$/.test(key) && str(value)) problems.push(`${svcName}: ${key} is set inline; use ${key}_FILE and a Docker secret`);
      if (/:\/\/[^/@\s]+:[^/@\s]+@/.test(str(value) ?? '')) problems.push(`${svcName}: ${key} embeds a password in a URL`);
    }
  }
  return problems;
}

const isTlsRouter = (props: Map<string, string>) => props.get('tls') === 'true' || [...props.keys()].some((k) => k.startsWith('tls.'));

/**
 * TLS: plain and TLS TCP routers never share an entrypoint (Traefik would wait for a ClientHello
 * and cut plain displays at readTimeout); every entrypoint a router uses is published by Traefik;
 * every certificate resolver referenced (router label, entrypoint default, the TLS store's
 * defaultGeneratedCert) is defined, and each ACME resolver has an email, a challenge and storage
 * on a volume; TLS routers get a real certificate from somewhere (not Traefik's self-signed
 * default); entrypoints that serve plain HTTP redirect to HTTPS.
 */
function checkTls(input: WiringInput, defs: LabelModel['defs'], services: Obj, traefikName: string | undefined, problems: string[]): void {
  const staticConfig = obj(input.traefikStatic);
  const entryPoints = obj(staticConfig.entryPoints);
  const resolvers = obj(staticConfig.certificatesResolvers);
  const traefik = obj(traefikName ? services[traefikName] : undefined);

  const tcpByEntryPoint = new Map<string, { tls: string[]; plain: string[] }>();
  for (const [name, { props }] of defs.tcp.routers) {
    for (const ep of csv(props.get('entrypoints'))) {
      const entry = tcpByEntryPoint.get(ep) ?? { tls: [], plain: [] };
      (isTlsRouter(props) ? entry.tls : entry.plain).push(name);
      tcpByEntryPoint.set(ep, entry);
    }
  }
  for (const [ep, { tls, plain }] of tcpByEntryPoint) {
    if (tls.length && plain.length) {
      problems.push(`entrypoint "${ep}": TLS TCP router(s) ${tls.join(', ')} share it with plain TCP router(s) ${plain.join(', ')}: Traefik would wait for a ClientHello and cut plain displays`);
    }
  }

  // Every entrypoint a router uses is published by the Traefik service.
  const published = new Set(list(traefik.ports).map((p) => str(obj(p).target)));
  const used = new Set<string>();
  for (const proto of ['http', 'tcp'] as const) for (const { props } of defs[proto].routers.values()) for (const ep of csv(props.get('entrypoints'))) used.add(ep);
  for (const ep of used) {
    const port = /:(\d+)/.exec(str(obj(entryPoints[ep]).address) ?? '')?.[1];
    if (traefikName && port && !published.has(port)) problems.push(`entrypoint "${ep}": port ${port} is not published by ${traefikName}`);
  }

  // Resolvers referenced must exist.
  const references: { where: string; name: string }[] = [];
  for (const proto of ['http', 'tcp'] as const) {
    for (const [name, { props, owner }] of defs[proto].routers) {
      const resolver = props.get('tls.certresolver');
      if (resolver) references.push({ where: `${owner}: ${proto} router "${name}"`, name: resolver });
    }
  }
  for (const [ep, def] of Object.entries(entryPoints)) {
    const resolver = str(obj(obj(obj(def).http).tls).certResolver);
    if (resolver) references.push({ where: `entrypoint "${ep}"`, name: resolver });
  }
  let storeHasCertificate = false;
  for (const [file, doc] of Object.entries(input.dynamic)) {
    const tlsSection = obj(obj(doc).tls);
    if (list(tlsSection.certificates).length) storeHasCertificate = true;
    for (const [store, def] of Object.entries(obj(tlsSection.stores))) {
      if (obj(def).defaultCertificate) storeHasCertificate = true;
      const generated = obj(obj(def).defaultGeneratedCert);
      const resolver = str(generated.resolver);
      if (resolver) {
        storeHasCertificate = true;
        references.push({ where: `${file}: TLS store "${store}" defaultGeneratedCert`, name: resolver });
        if (!str(obj(generated.domain).main)) problems.push(`${file}: TLS store "${store}" defaultGeneratedCert has no domain.main`);
      }
    }
  }
  for (const { where, name } of references) {
    if (!resolvers[name]) problems.push(`${where}: certificate resolver "${name}" is not defined in traefik.yml certificatesResolvers`);
  }

  // Each ACME resolver: an email, a challenge, storage that survives the task (a mounted volume).
  const mounts = list(traefik.volumes).map((v) => obj(v)).filter((v) => str(v.type) === 'volume').map((v) => str(v.target) ?? '');
  for (const [name, def] of Object.entries(resolvers)) {
    const acme = obj(obj(def).acme);
    if (!obj(def).acme) continue;
    if (!str(acme.email)) problems.push(`certificate resolver "${name}": no acme.email`);
    if (!acme.tlsChallenge && !acme.httpChallenge && !acme.dnsChallenge) problems.push(`certificate resolver "${name}": no ACME challenge (tlsChallenge, httpChallenge or dnsChallenge)`);
    const httpEp = str(obj(acme.httpChallenge).entryPoint);
    if (httpEp && !entryPoints[httpEp]) problems.push(`certificate resolver "${name}": httpChallenge entrypoint "${httpEp}" is not defined`);
    const storage = str(acme.storage) ?? '';
    if (!mounts.some((m) => m && storage.startsWith(`${m.replace(/\/$/, '')}/`))) problems.push(`certificate resolver "${name}": storage ${storage || '(unset)'} is not on a volume of ${traefikName ?? 'traefik'}`);
  }

  const tlsRouters = [...defs.http.routers.values(), ...defs.tcp.routers.values()].filter(({ props }) => isTlsRouter(props));
  if (tlsRouters.length && !storeHasCertificate && !references.length) {
    problems.push('TLS routers have no certificate source (certificate resolver, or a certificate in the file provider): Traefik would serve its self-signed default');
  }

  // Plain HTTP entrypoints only redirect to HTTPS.
  for (const [ep, def] of Object.entries(entryPoints)) {
    const http = obj(def).http;
    if (!http || obj(http).tls) continue;
    const redirect = obj(obj(obj(http).redirections).entryPoint);
    const target = str(redirect.to);
    if (str(redirect.scheme) !== 'https' || !target || !obj(obj(entryPoints[target]).http).tls) problems.push(`entrypoint "${ep}": plain HTTP without a redirect to an HTTPS entrypoint`);
  }
}
