/**
 * The transfer, described with the standard transferSpec field names used by Aspera Connect,
 * the Transfer SDK and Faspex 5's API (faspex-protocol.md §4–5). Produced by the FASP URL parser
 * (Faspex 4) and by the Faspex 5 API; consumed by the ascp argv builder and the output formats.
 */
export type RatePolicy = 'low' | 'fair' | 'high' | 'fixed';
export type Cipher =
  | 'none'
  | 'aes-128' | 'aes-192' | 'aes-256'
  | 'aes-128-cfb' | 'aes-192-cfb' | 'aes-256-cfb'
  | 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm';
export type ResumePolicy = 'none' | 'attrs' | 'sparse_csum' | 'full_csum';

export interface TransferPath {
  source: string;
  destination?: string;
}

export interface TransferSpec {
  direction: 'receive' | 'send';
  remote_host: string;
  remote_user?: string;
  /** SSH/TCP port */
  ssh_port?: number;
  /** UDP data port */
  fasp_port?: number;
  paths: TransferPath[];
  /** secret: goes to ASPERA_SCP_TOKEN, never argv */
  token?: string;
  /** secret: goes to ASPERA_SCP_COOKIE, never argv */
  cookie?: string;
  sshfp?: string;
  rate_policy?: RatePolicy;
  target_rate_kbps?: number;
  min_rate_kbps?: number;
  /** kept for reference; a local ascp does not take it */
  target_rate_cap_kbps?: number;
  cipher?: Cipher;
  http_fallback?: boolean | 'force';
  http_fallback_port?: number;
  /** the server takes the session over WebSocket Secure (Faspex 5): ascp --ws-connect */
  wss_enabled?: boolean;
  /** TCP port of that WebSocket service */
  wss_port?: number;
  create_dir?: boolean;
  /** kept for reference; a local ascp does not take it */
  lock_rate_policy?: boolean;
  /** kept for reference; a local ascp does not take it */
  lock_min_rate?: boolean;
  tags?: unknown;
  source_root?: string;
  destination_root?: string;
  resume_policy?: ResumePolicy;
}
