/**
 * The alert stage's synchronous view of the rules (and silences): processors run synchronously,
 * the database does not. Loaded once by `start()`, reloaded whenever the source reports a change
 * (and every `refreshMs` as a safety net), so rule edits apply without a restart. A failed reload
 * keeps the last good list: a database outage must not resolve every alert as "rule deleted".
 *
 * Lifecycle: `start()` resolves after the first successful load; `stop()` is idempotent.
 */
import { describeError } from '../../common/errors.ts';
import { createLogger } from '../../common/logger.ts';
import type { AlertRule, Silence } from '../../storage/db/types.ts';
import type { AlertRuleSource, SilenceSource } from './types.ts';

export class RuleCache {
  private rules: AlertRule[] = [];
  private silenceList: Silence[] = [];
  private loaded = false;
  private stopWatch: (() => unknown) | null = null;
  private stopSilenceWatch: (() => unknown) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private reloading: Promise<void> | null = null;
  private readonly log = createLogger('alert-rules');
  /** Bumped after every successful reload (tests and the stage wait on it). */
  generation = 0;

  constructor(
    private readonly source: AlertRuleSource,
    private readonly silences?: SilenceSource,
    private readonly refreshMs = 30_000,
  ) {}

  get ready(): boolean {
    return this.loaded;
  }

  current(): readonly AlertRule[] {
    return this.rules;
  }

  currentSilences(): readonly Silence[] {
    return this.silenceList;
  }

  async start(): Promise<void> {
    await this.reload();
    if (!this.loaded) throw new Error('alert rules could not be loaded');
    this.stopWatch = this.source.watch(() => void this.reload());
    this.stopSilenceWatch = this.silences?.watch?.(() => void this.reload()) ?? null;
    this.timer = setInterval(() => void this.reload(), this.refreshMs);
    this.timer.unref();
  }

  /** Re-reads rules and silences; concurrent calls share one read. */
  reload(): Promise<void> {
    if (!this.reloading) {
      this.reloading = (async () => {
        try {
          const [rules, silences] = await Promise.all([this.source.list(), this.silences?.list() ?? []]);
          this.rules = rules;
          this.silenceList = silences;
          this.loaded = true;
          this.generation++;
        } catch (err) {
          this.log.warn(
            { err: describeError(err) },
            'alert rules reload failed; keeping the last good rules',
          );
        } finally {
          this.reloading = null;
        }
      })();
    }
    return this.reloading;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.stopWatch?.();
    this.stopWatch = null;
    this.stopSilenceWatch?.();
    this.stopSilenceWatch = null;
  }
}
