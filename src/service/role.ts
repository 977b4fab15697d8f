/** A process role (listener, downloader, dashboard): started by `run` or its own command. */
export interface RoleHealth {
  ok: boolean;
  detail?: string;
}

export interface Role {
  name: 'listener' | 'downloader' | 'dashboard';
  /** graceful: finish or hand back in-flight work, then release connections */
  stop(): Promise<void>;
  health(): Promise<RoleHealth> | RoleHealth;
}
