import type { Level } from '../../storage/logs/types.ts';

/** Spellings seen in the wild, normalised to the levels the stores index. */
const ALIASES = new Map<string, Level>(
  Object.entries({
    TRACE: 'TRACE',
    TRC: 'TRACE',
    DEBUG: 'DEBUG',
    DBG: 'DEBUG',
    INFO: 'INFO',
    INF: 'INFO',
    INFORMATION: 'INFO',
    NOTICE: 'INFO',
    WARN: 'WARN',
    WRN: 'WARN',
    WARNING: 'WARN',
    ERROR: 'ERROR',
    ERR: 'ERROR',
    SEVERE: 'ERROR',
    FATAL: 'FATAL',
    CRITICAL: 'FATAL',
    CRIT: 'FATAL',
    ALERT: 'FATAL',
    EMERG: 'FATAL',
    EMERGENCY: 'FATAL',
    PANIC: 'FATAL',
  } satisfies Record<string, Level>),
);

/** WARNING → WARN, err → ERROR, CRITICAL → FATAL, …; undefined when the word is no level. */
export function normalizeLevel(word: unknown): Level | undefined {
  if (typeof word !== 'string' || word.length > 16) return undefined;
  // Most logs spell the level in upper case already: no trimmed, upper-cased copy for those.
  return ALIASES.get(word) ?? ALIASES.get(word.trim().toUpperCase());
}
