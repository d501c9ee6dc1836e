/**
 * The HTTPS front of the apiserver: TLS with optional client certificates, authentication, request
 * metrics, the non-resource endpoints (health, version, discovery, OpenAPI, metrics), and dispatch of
 * resource paths to handlers.ts. Every error leaves as a `Status`; an unexpected exception is logged
 * and answered 500 without taking the process down.
 */
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { Counter, Histogram, Registry as MetricsRegistry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from '../../lib/log.js';
import { responseForUpgrade } from '../../lib/websocket/upgrade.js';
import type { Authenticator, UserInfo } from './auth/types.js';
import { authRequestFrom, presentsCredentials, withAuthenticatedGroup } from './auth/types.js';
import {
  buildAggregatedDiscovery,
  buildAPIGroup,
  buildAPIGroupList,
  buildAPIResourceList,
  buildCoreAPIVersions,
  buildVersionInfo,
} from './discovery.js';
import type { ServedResource } from './discovery.js';
import { ApiError, badRequest, forbidden, internalError, notFound, unauthorized } from './errors.js';
import { requestAttributes } from './authz/attributes.js';
import { alwaysAllowChain } from './authz/index.js';
import type { AuthorizerChain } from './authz/index.js';
import { impersonatedUser } from './authz/impersonation.js';
import { forbiddenMessage } from './authz/types.js';
import { DEFAULT_ISSUER } from './auth/service-account.js';
import { handleResource } from './handlers.js';
import type { ResourceHandlerDeps } from './handlers.js';
import { queryOf, writeJson, writeStatus } from './http-util.js';
import { buildOpenAPIV3GroupVersion, buildOpenAPIV3Root } from './openapi.js';
import { buildOpenAPIV2, buildOpenAPIV2Protobuf, OPENAPI_V2_PROTOBUF, OPENAPI_V2_PROTOBUF_RETURNED } from './openapi-v2.js';
import { parseRequestPath } from './request-info.js';
import { REVIEW_KINDS, handleReview, reviewKindOf } from './reviews.js';

export interface TlsMaterial {
  readonly certPem: string;
  readonly keyPem: string;
  readonly caPem: string;
}

export interface ApiServerOptions {
  readonly bindAddress: string;
  readonly port: number;
  /** Address other hosts use to reach this apiserver (kubernetes Service endpoints, discovery). */
  readonly advertiseAddress: string;
  readonly tls: TlsMaterial;
  readonly authenticator: Authenticator;
  readonly deps: ResourceHandlerDeps;
  readonly log: Logger;
  /** The audience bearer tokens are checked for (TokenReview); default the default issuer. */
  readonly apiAudience?: string;
  /** Who may do what (authz/index.ts); absent: everybody authenticated may do everything (AlwaysAllow). */
  readonly authorizer?: AuthorizerChain;
  /**
   * `--anonymous-auth`: a request without credentials is system:anonymous (group system:unauthenticated)
   * and the authorizer decides, as upstream's (RBAC then answers 403 naming the user). Off: such requests
   * get 401, except the health and version endpoints. A request whose credentials are refused always
   * gets 401.
   */
  readonly anonymousAuth?: boolean;
}

const ANONYMOUS: UserInfo = { name: 'system:anonymous', groups: ['system:unauthenticated'] };

/** Paths anonymous clients may read, as upstream's default RBAC allows for system:unauthenticated. */
const PUBLIC_PATHS = new Set(['/healthz', '/livez', '/readyz', '/version']);

const AGGREGATED_DISCOVERY = /as=APIGroupDiscoveryList/;

export class ApiServer {
  private server: Server | undefined;
  readonly metrics = new MetricsRegistry();
  private readonly requests: Counter<'verb' | 'resource' | 'code'>;
  private readonly latency: Histogram<'verb' | 'resource'>;
  private readonly served: readonly ServedResource[];
  private readonly authorizations: Counter<'decision'>;
  private readonly authorizer: AuthorizerChain;
  /** The handlers' dependencies, with this server's authorizer (server-side apply's create asks it). */
  private readonly deps: ResourceHandlerDeps;
  private ready = false;

  constructor(private readonly opts: ApiServerOptions) {
    collectDefaultMetrics({ register: this.metrics });
    this.requests = new Counter({
      name: 'apiserver_request_total',
      help: 'Counter of apiserver requests broken out by verb, resource and HTTP response code.',
      labelNames: ['verb', 'resource', 'code'],
      registers: [this.metrics],
    });
    this.latency = new Histogram({
      name: 'apiserver_request_duration_seconds',
      help: 'Response latency distribution in seconds for each verb and resource.',
      labelNames: ['verb', 'resource'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [this.metrics],
    });
    this.authorizations = new Counter({
      name: 'apiserver_authorization_decisions_total',
      help: 'Authorization decisions, allowed or denied.',
      labelNames: ['decision'],
      registers: [this.metrics],
    });
    this.authorizer = opts.authorizer ?? alwaysAllowChain();
    this.deps = { ...opts.deps, authorizer: this.authorizer };
    this.served = [...opts.deps.index.entries.map((e) => ({ def: e.def, subresources: e.subresources })), ...REVIEW_KINDS.map((def) => ({ def, subresources: [] }))];
  }

  async listen(): Promise<AddressInfo> {
    const { tls } = this.opts;
    const server = createServer(
      {
        cert: tls.certPem,
        key: tls.keyPem,
        ca: [tls.caPem],
        requestCert: true,
        rejectUnauthorized: false,
        minVersion: 'TLSv1.2',
      },
      (req, res) => {
        this.handle(req, res).catch((err: unknown) => this.lastResort(err, req));
      },
    );
    // exec/attach arrive as upgrade requests: same pipeline, with a response bound to the raw socket
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.handle(req, responseForUpgrade(req, socket, head)).catch((err: unknown) => this.lastResort(err, req));
    });
    server.keepAliveTimeout = 65_000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.bindAddress, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.ready = true;
    return server.address() as AddressInfo;
  }

  async close(): Promise<void> {
    this.ready = false;
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      // watches are long-lived: end them instead of waiting for their timeouts
      server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'https://apiserver');
    } catch {
      // a request target no URL parser accepts (`//[`): 400, never an exception out of this handler
      this.fail(res, badRequest(`the request target ${JSON.stringify((req.url ?? '').slice(0, 200))} is not a valid path`), req);
      this.requests.inc({ verb: req.method ?? '', resource: '', code: String(res.statusCode) });
      return;
    }
    const info = parseRequestPath(url.pathname);
    const resource = info.kind === 'resource' ? `${info.resource}${info.subresource ? `/${info.subresource}` : ''}` : '';
    const verb = verbOf(req.method ?? 'GET', info.kind === 'resource' ? info.name : undefined, url);
    try {
      const authenticated = await this.authenticate(req, url.pathname);
      if (!authenticated) throw unauthorized();
      const user = impersonatedUser(req.headers, authenticated, this.authorizer);
      const attrs = requestAttributes(user, req.method ?? 'GET', info, url);
      const decision = this.authorizer.authorize(attrs);
      this.authorizations.inc({ decision: decision.verdict === 'allow' ? 'allowed' : 'denied' });
      if (decision.verdict !== 'allow') throw forbidden(forbiddenMessage(attrs, decision.reason));
      const review = info.kind === 'resource' ? reviewKindOf(info) : undefined;
      if (review !== undefined) {
        await handleReview(req, res, review, user, queryOf(url), this.authorizer, {
          ...(info.kind === 'resource' && info.namespace !== undefined ? { namespace: info.namespace } : {}),
          apiAudience: this.opts.apiAudience ?? DEFAULT_ISSUER,
          authenticateToken: async (token) => {
            const who = await this.opts.authenticator.authenticate({ headers: { authorization: `Bearer ${token}` } });
            return who !== undefined ? withAuthenticatedGroup(who) : undefined;
          },
        });
      }
      else if (info.kind === 'resource') await handleResource(this.deps, req, res, info, url, user);
      else this.serveNonResource(req, res, url, info);
    } catch (err) {
      this.fail(res, err, req);
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.requests.inc({ verb, resource, code: String(res.statusCode) });
      if (verb !== 'WATCH') this.latency.observe({ verb, resource }, seconds);
    }
  }

  private async authenticate(req: IncomingMessage, path: string): Promise<UserInfo | undefined> {
    const ar = authRequestFrom(req);
    const user = await this.opts.authenticator.authenticate(ar);
    if (user) return withAuthenticatedGroup(user);
    // a client that presented credentials that were refused gets 401, whatever the path
    if (presentsCredentials(ar)) return undefined;
    if (this.opts.anonymousAuth === true) return ANONYMOUS;
    if (PUBLIC_PATHS.has(path) || path.startsWith('/healthz/') || path.startsWith('/livez/') || path.startsWith('/readyz/')) return ANONYMOUS;
    return undefined;
  }

  /** What escaped the handler's own error handling: logged, never an unhandled rejection that ends the process. */
  private lastResort(err: unknown, req: IncomingMessage): void {
    this.opts.log.error({ err: err instanceof Error ? err.message : String(err), method: req.method, url: req.url }, 'request handler failed');
    req.socket.destroy();
  }

  private fail(res: ServerResponse, err: unknown, req: IncomingMessage): void {
    const apiErr = err instanceof ApiError ? err : internalError(err instanceof Error ? err.message : String(err), err);
    if (!(err instanceof ApiError)) {
      this.opts.log.error({ err, method: req.method, url: req.url }, 'unexpected error serving request');
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    writeStatus(res, apiErr);
  }

  private serveNonResource(req: IncomingMessage, res: ServerResponse, url: URL, info: ReturnType<typeof parseRequestPath>): void {
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const accept = req.headers.accept ?? '';
    if (path === '/healthz' || path === '/livez' || path === '/readyz' || /^\/(healthz|livez|readyz)\//.test(path)) {
      const ok = path.startsWith('/readyz') ? this.ready : true;
      res.writeHead(ok ? 200 : 500, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
      res.end(ok ? 'ok' : 'not ready');
      return;
    }
    if (path === '/version') return writeJson(res, 200, buildVersionInfo());
    if (path === '/metrics') {
      void this.metrics.metrics().then((text) => {
        res.writeHead(200, { 'Content-Type': this.metrics.contentType });
        res.end(text);
      });
      return;
    }
    if (path === '/api') {
      if (AGGREGATED_DISCOVERY.test(accept)) return writeDiscoveryV2(res, buildAggregatedDiscovery(this.served, 'core'), accept);
      return writeJson(res, 200, buildCoreAPIVersions(`${this.opts.advertiseAddress}:${this.opts.port}`));
    }
    if (path === '/apis') {
      if (AGGREGATED_DISCOVERY.test(accept)) return writeDiscoveryV2(res, buildAggregatedDiscovery(this.served, 'apis'), accept);
      return writeJson(res, 200, buildAPIGroupList(this.served));
    }
    if (info.kind === 'group') {
      const g = buildAPIGroup(this.served, info.group);
      if (!g) throw notFound({ group: '', resource: 'groups' }, info.group);
      return writeJson(res, 200, g);
    }
    if (info.kind === 'group-version') {
      const list = buildAPIResourceList(this.served, info.group, info.version);
      if (!list) throw notFound({ group: '', resource: 'groupversions' }, `${info.group}/${info.version}`);
      return writeJson(res, 200, list);
    }
    if (path === '/openapi/v3') return writeJson(res, 200, buildOpenAPIV3Root(this.served));
    if (path === '/openapi/v2') {
      if (!accept.includes(OPENAPI_V2_PROTOBUF)) return writeJson(res, 200, buildOpenAPIV2(this.served));
      const body = buildOpenAPIV2Protobuf(this.served);
      res.writeHead(200, { 'Content-Type': OPENAPI_V2_PROTOBUF_RETURNED, 'Content-Length': body.length, 'Cache-Control': 'no-cache, private' });
      res.end(body);
      return;
    }
    const m = /^\/openapi\/v3\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(path);
    if (m) {
      const group = m[1] ? '' : (m[2] ?? '');
      const version = m[1] ?? m[3] ?? '';
      const doc = buildOpenAPIV3GroupVersion(this.served, group, version);
      if (!doc) throw notFound({ group: '', resource: 'openapi' }, path);
      return writeJson(res, 200, doc);
    }
    throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  }
}

/** The aggregated discovery document, with the content type that tells client-go which one it got. */
function writeDiscoveryV2(res: ServerResponse, body: unknown, accept: string): void {
  const version = /v=v2(?!beta)/.test(accept) ? 'v2' : 'v2beta1';
  const text = JSON.stringify(body);
  res.writeHead(200, {
    'Content-Type': `application/json;g=apidiscovery.k8s.io;v=${version};as=APIGroupDiscoveryList`,
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-cache, private',
  });
  res.end(text);
}

function verbOf(method: string, name: string | undefined, url: URL): string {
  const watch = url.searchParams.get('watch');
  if (method === 'GET' && (watch === 'true' || watch === '1' || url.pathname.includes('/watch/'))) return 'WATCH';
  if (method === 'GET') return name === undefined ? 'LIST' : 'GET';
  return method;
}
