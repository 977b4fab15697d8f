/**
 * One download attempt's way through the caps: a slot on its Faspex server before resolving, a
 * slot on its transfer host before ascp, both renewed while the attempt runs and released when
 * it ends. Over a cap, `enter` throws a CAPPED IngestError, which the download processor turns
 * into a delay that spends no attempt.
 */
import { IngestError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { afterRefusal, busyRefusal, capFor, type CapScope, type CapSettings } from './transfer-caps.js';
import type { TransferSlots } from './transfer-slots.js';

export class TransferGate {
  private readonly held: Array<{ scope: CapScope; host: string }> = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly slots: TransferSlots,
    private readonly settings: CapSettings,
    private readonly leaseId: string,
    private readonly logger: Logger,
  ) {}

  async enter(scope: CapScope, host: string): Promise<void> {
    const answer = await this.slots.acquire(scope, host, this.leaseId, capFor(this.settings, scope, host));
    if (!answer.acquired) {
      const what = scope === 'server' ? `Faspex server ${host}` : `transfer host ${host}`;
      throw new IngestError('CAPPED', `${what} already runs ${answer.holders} transfer(s), its cap is ${answer.cap}; waiting for a slot`, {
        retry: 'later',
        details: { scope, host, cap: answer.cap, holders: answer.holders },
      });
    }
    this.held.push({ scope, host });
    // renew at a third of the lease: two renewals may fail (a Redis failover) before it lapses
    this.timer ??= setInterval(() => void this.renewAll(), Math.max(500, Math.floor(this.slots.leaseMs / 3)));
    this.timer.unref();
  }

  /**
   * A server said "too many sessions": lower the cap of the host it concerns for a while.
   * True when the job should wait (no attempt spent); false when it should fail as usual.
   */
  async refused(err: IngestError, hosts: { server: string; transferHost?: string }): Promise<boolean> {
    const scope = busyRefusal(err);
    if (!scope) return false;
    const host = scope === 'server' ? hosts.server : hosts.transferHost;
    if (!host) return false;
    const { holders, lowered } = await this.slots.state(scope, host);
    const decision = afterRefusal(holders, lowered);
    if ('fail' in decision) return false;
    await this.slots.lower(scope, host, decision.lowerTo, this.settings.loweredForMs);
    this.logger.warn({ scope, host, cap: decision.lowerTo, forSeconds: this.settings.loweredForMs / 1000 },
      `${scope === 'server' ? 'Faspex server' : 'transfer host'} ${host} refused a session with ${holders} running; its cap is ${decision.lowerTo} for a while`);
    return true;
  }

  async leave(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const held = this.held.splice(0);
    await Promise.all(held.map((h) => this.slots.release(h.scope, h.host, this.leaseId).catch(() => undefined)));
  }

  private async renewAll(): Promise<void> {
    for (const h of this.held) {
      await this.slots.renew(h.scope, h.host, this.leaseId).catch((err: unknown) => this.logger.debug({ err, host: h.host }, 'could not renew a transfer slot'));
    }
  }
}
