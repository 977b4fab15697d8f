/**
 * The connection pools behind every outbound request: one direct pool, and one undici ProxyAgent
 * per configured proxy, chosen per request by proxyFor() (proxy.ts). Through a proxy an https://
 * target is reached by CONNECT (a tunnel), so the proxy sees only the host and port, and TLS to
 * the target is verified end to end with our CA set as if there were no proxy. A plain http://
 * target (a webhook) is sent to the proxy as an ordinary proxied request: the proxy could read
 * it anyway, and common proxies (squid's default rules) refuse CONNECT to ports other than 443.
 */
import type { EventEmitter } from 'node:events';
import { Agent, Dispatcher, ProxyAgent } from 'undici';
import { proxyFor, type ProxySettings } from './proxy.js';
import { tlsOptions, type TlsOptions, type TlsSettings } from './tls.js';

export interface DispatcherSettings {
  tls: TlsSettings;
  /** tlsOptions(tls) already read (the client reads it at construction); absent: read here */
  resolvedTls?: TlsOptions;
  timeoutMs: number;
  proxy?: ProxySettings;
}

/** Routes each request to the direct pool or its proxy's; emits the inner pools' events. */
export class OutboundDispatcher extends Dispatcher {
  readonly #direct: Agent;
  readonly #proxies = new Map<string, ProxyAgent>();
  readonly #settings: DispatcherSettings;
  readonly #tls: TlsOptions;

  constructor(settings: DispatcherSettings) {
    super();
    this.#settings = settings;
    this.#tls = settings.resolvedTls ?? tlsOptions(settings.tls);
    const t = settings.timeoutMs;
    this.#direct = this.#watch(new Agent({ connect: { ...this.#tls, timeout: t }, headersTimeout: t, bodyTimeout: t, keepAliveTimeout: 4_000 }));
  }

  #watch<T extends Dispatcher>(d: T): T {
    const source = d as unknown as EventEmitter;
    for (const event of ['connect', 'disconnect', 'connectionError']) source.on(event, (...args: unknown[]) => (this as unknown as EventEmitter).emit(event, ...args));
    return d;
  }

  /** The pool for this origin: its proxy's, or the direct one. */
  #route(origin: string): Dispatcher {
    const proxy = proxyFor(new URL(origin), this.#settings.proxy ?? {});
    if (!proxy) return this.#direct;
    let agent = this.#proxies.get(proxy);
    if (!agent) {
      const t = this.#settings.timeoutMs;
      agent = this.#watch(new ProxyAgent({
        uri: proxy,
        proxyTunnel: false,
        requestTls: { ...this.#tls, timeout: t },
        // the proxy itself (an https:// proxy) is verified with the same CA set, never skipped
        proxyTls: { ...(this.#tls.ca ? { ca: this.#tls.ca } : {}), timeout: t },
        headersTimeout: t,
        bodyTimeout: t,
        keepAliveTimeout: 4_000,
      }));
      this.#proxies.set(proxy, agent);
    }
    return agent;
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    return this.#route(String(options.origin)).dispatch(options, handler);
  }

  #pools(): Dispatcher[] {
    return [this.#direct, ...this.#proxies.values()];
  }

  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    const done = Promise.all(this.#pools().map((p) => p.close())).then(() => undefined);
    if (!callback) return done;
    void done.then(callback);
  }

  override destroy(): Promise<void>;
  override destroy(err: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(err: Error | null, callback: () => void): void;
  override destroy(a?: Error | null | (() => void), b?: () => void): Promise<void> | void {
    const err = typeof a === 'function' ? null : (a ?? null);
    const callback = typeof a === 'function' ? a : b;
    const done = Promise.all(this.#pools().map((p) => p.destroy(err))).then(() => undefined);
    if (!callback) return done;
    void done.then(callback);
  }
}
