/** The five services `logflow services` manages. */
export type ServiceName = 'kafka' | 'schema-registry' | 'elasticsearch' | 'postgres' | 'redis';

export type Say = (line: string) => void;

/**
 * One service as `logflow services` sees it.
 *
 * Lifecycle: `install` fetches artifacts and is idempotent (a no-op once cached); `start` is called
 * only when `healthy()` is false and no process of ours is alive, and returns once the process is
 * launched (not yet healthy — the manager polls `healthy()`); `stop` stops only a process this
 * project started (its pid file and command line say so) and is a no-op otherwise.
 */
export interface ManagedService {
  readonly name: ServiceName;
  /** The URL clients use (the same value common/config.ts defaults to). */
  readonly url: string;
  readonly version: string;
  readonly logPath: string;
  /** How long a cold start may take before `up` gives up. */
  readonly startTimeoutMs: number;
  healthy(): Promise<boolean>;
  /** The pid of the process this project started, when it is alive. */
  pid(): number | undefined;
  install(say: Say): Promise<void>;
  start(say: Say): Promise<void>;
  /** Runs once the service is healthy (e.g. create a database, set a default). */
  ready?(say: Say): Promise<void>;
  stop(say: Say): Promise<boolean>;
}
