import type { Level } from '../../storage/logs/types.ts';

/** Spellings seen in the wild, normalised to the levels the stores index. */
const ALIASES: Record<string, Level> = {
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
};

/** WARNING → WARN, err → ERROR, CRITICAL → FATAL, …; undefined when the word is no level. */
export function normalizeLevel(word: unknown): Level | undefined {
  if (typeof word !== 'string' || word.length > 16) return undefined;
  return ALIASES[word.trim().toUpperCase()];
}
