/**
 * Which way ascp reaches the transfer server, decided before it runs. Corporate firewalls often
 * block SSH (TCP 33001) or UDP 33001; Faspex 5 then offers WebSocket Secure in its transfer spec
 * (wss_enabled, wss_port), which ascp uses with --ws-connect on that port instead of SSH, as IBM's
 * ascli does; and ascp can fall back to HTTP(S) when UDP is blocked (-y, -t), through an HTTP
 * proxy (-x). Pure: the settings come from config, the spec from the server.
 *
 *   ASCP_WSS            auto (WSS when the spec offers it) | always (refuse a spec without it) | never
 *   ASCP_HTTP_FALLBACK  auto (as the spec says) | always (-y 1) | force (HTTP only, -y F) | never (-y 0)
 *   ASCP_PROXY          the proxy for ascp's HTTP traffic (-x); default HTTPS_PROXY unless NO_PROXY
 *                       names the transfer host
 */
import { permanent } from '../errors.js';
import { proxyFor, shownProxy, type ProxySettings } from '../http/proxy.js';
import type { TransferSpec } from './transfer-spec.js';

export type WssMode = 'auto' | 'always' | 'never';
export type HttpFallbackMode = 'auto' | 'always' | 'force' | 'never';

export interface TransportSettings {
  wss: WssMode;
  httpFallback: HttpFallbackMode;
  /** ASCP_PROXY: the proxy for ascp's HTTP (fallback, WSS) */
  proxy?: string;
  /** Config.proxy: used for ascp when ASCP_PROXY is unset */
  outbound?: ProxySettings;
}

const DEFAULT_TRANSPORT: TransportSettings = { wss: 'auto', httpFallback: 'auto' };

export interface TransportPlan {
  /** the session's TCP channel: SSH, or WebSocket Secure */
  session: 'ssh' | 'wss';
  /** TCP port of that channel (-P); undefined: ascp's default 33001 */
  tcpPort: number | undefined;
  /** UDP data port (-O); undefined with WSS, or ascp's default */
  udpPort: number | undefined;
  /** -y: undefined leaves ascp's default (off) */
  httpFallback: '0' | '1' | 'F' | undefined;
  httpFallbackPort: number | undefined;
  /** -x, without any login in it (argv is readable by every local user) */
  proxy: string | undefined;
  /** the server offered WSS but the settings refused it (for the blocked-paths hint) */
  wssDeclined: number | undefined;
}

const SSH_DEFAULT = 33001;

export function planTransport(spec: TransferSpec, settings: TransportSettings = DEFAULT_TRANSPORT): TransportPlan {
  const offered = spec.wss_enabled === true && spec.wss_port !== undefined;
  if (settings.wss === 'always' && !offered) {
    throw permanent('NOT_SUPPORTED',
      `ASCP_WSS=always, but the transfer spec for ${spec.remote_host} offers no WebSocket (wss_enabled with wss_port): ` +
      'this server can only be reached over SSH and UDP (Faspex 4 links never offer WSS); set ASCP_WSS=auto to use them');
  }
  const useWss = offered && settings.wss !== 'never';
  const httpFallback = fallbackFlag(spec, settings.httpFallback);
  const usesHttp = useWss || httpFallback === '1' || httpFallback === 'F';
  return {
    session: useWss ? 'wss' : 'ssh',
    // as ascli: with WSS the session goes to wss_port, and the UDP port and SSH fingerprint do not apply
    tcpPort: useWss ? spec.wss_port : spec.ssh_port,
    udpPort: useWss ? undefined : spec.fasp_port,
    httpFallback,
    httpFallbackPort: spec.http_fallback_port,
    proxy: usesHttp ? ascpProxy(spec, settings) : undefined,
    wssDeclined: offered && !useWss ? spec.wss_port : undefined,
  };
}

function fallbackFlag(spec: TransferSpec, mode: HttpFallbackMode): TransportPlan['httpFallback'] {
  switch (mode) {
    case 'always': return '1';
    case 'force': return 'F';
    case 'never': return '0';
    case 'auto': return spec.http_fallback === undefined ? undefined : spec.http_fallback === 'force' ? 'F' : spec.http_fallback ? '1' : '0';
  }
}

/** ASCP_PROXY, else the outbound proxy for the transfer host; never with its login. */
function ascpProxy(spec: TransferSpec, settings: TransportSettings): string | undefined {
  const chosen = settings.proxy ?? (settings.outbound ? proxyFor(new URL(`https://${bracketed(spec.remote_host)}`), settings.outbound) : undefined);
  return chosen === undefined ? undefined : shownProxy(chosen);
}

function bracketed(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** The ways this plan tries, in words: "WSS to fx:443" or "SSH to fx:33001 (TCP), data on UDP 33001". */
export function describePaths(plan: TransportPlan, host: string): string {
  const via = plan.proxy ? ` through the proxy ${plan.proxy}` : '';
  if (plan.session === 'wss') return `WebSocket (WSS) to ${host}:${plan.tcpPort ?? '?'} (TCP)${via}`;
  const ssh = `SSH to ${host}:${plan.tcpPort ?? SSH_DEFAULT} (TCP), data on UDP ${plan.udpPort ?? SSH_DEFAULT}`;
  if (plan.httpFallback === 'F') return `SSH to ${host}:${plan.tcpPort ?? SSH_DEFAULT} (TCP), data over HTTP${port(plan)}${via}`;
  if (plan.httpFallback === '1') return `${ssh}, then HTTP fallback${port(plan)}${via}`;
  return ssh;
}

const port = (plan: TransportPlan) => (plan.httpFallbackPort === undefined ? '' : ` on TCP ${plan.httpFallbackPort}`);

/** What is left to try once these paths are blocked: the advice in a TRANSFER_BLOCKED message. */
export function unblockAdvice(plan: TransportPlan, host: string): string {
  const tips: string[] = [];
  if (plan.wssDeclined !== undefined) tips.push(`the server offers WSS on port ${plan.wssDeclined}: set ASCP_WSS=auto to use it`);
  if (plan.session === 'ssh') {
    tips.push(`ask for TCP ${plan.tcpPort ?? SSH_DEFAULT} and UDP ${plan.udpPort ?? SSH_DEFAULT} to ${host} to be opened`);
    if (plan.httpFallback !== '1' && plan.httpFallback !== 'F') tips.push('or allow HTTP fallback (ASCP_HTTP_FALLBACK=always; the server must offer it)');
    else if (!plan.proxy) tips.push('or give HTTP fallback a proxy (ASCP_PROXY or HTTPS_PROXY)');
  } else {
    tips.push(`ask for TCP ${plan.tcpPort ?? '?'} to ${host} to be opened${plan.proxy ? '' : ', or set ASCP_PROXY (or HTTPS_PROXY) to a proxy that may reach it'}`);
    tips.push('or try SSH and UDP (ASCP_WSS=never)');
  }
  return tips.join('; ');
}
