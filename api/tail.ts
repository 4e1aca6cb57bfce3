import type { LogDocument, ParsedLog } from '../storage/logs/types.ts';
import { toLogDocument } from '../storage/logs/types.ts';

/** The filters of the live tail (the same as search, without time and paging). */
export interface TailFilter {
  /** Every word must appear in the message (case-insensitive); plain words, never query syntax. */
  query?: string;
  services?: string[];
  levels?: string[];
}

/**
 * Where the live tail's logs come from. The API calls `subscribe` once per connected client and
 * the returned function when that client goes away (it must be idempotent). A source may use the
 * filter to skip work; the API applies `matchesTailFilter` to whatever it delivers anyway.
 * `onLog` must be called synchronously or from the event loop; it never throws.
 */
export interface TailSource {
  subscribe(filter: TailFilter, onLog: (log: LogDocument) => void): () => void;
}

export function matchesTailFilter(filter: TailFilter, log: LogDocument): boolean {
  if (filter.services?.length && !filter.services.includes(log.service)) return false;
  if (filter.levels?.length && !filter.levels.includes(log.level)) return false;
  if (filter.query) {
    const message = log.message.toLowerCase();
    for (const word of filter.query.toLowerCase().split(/\s+/)) {
      if (word && !message.includes(word)) return false;
    }
  }
  return true;
}

/**
 * The simplest TailSource: the pipeline calls `publish` for every parsed log (e.g. from the
 * logs-parsed topic) and each subscriber whose filter matches receives it.
 */
export class TailHub implements TailSource {
  private readonly subscribers = new Set<{ filter: TailFilter; onLog: (log: LogDocument) => void }>();

  get size(): number {
    return this.subscribers.size;
  }

  subscribe(filter: TailFilter, onLog: (log: LogDocument) => void): () => void {
    const sub = { filter, onLog };
    this.subscribers.add(sub);
    return () => {
      this.subscribers.delete(sub);
    };
  }

  publish(log: ParsedLog | LogDocument): void {
    if (this.subscribers.size === 0) return;
    const doc = typeof log.timestamp === 'number' ? toLogDocument(log as ParsedLog) : (log as LogDocument);
    for (const sub of this.subscribers) {
      if (matchesTailFilter(sub.filter, doc)) sub.onLog(doc);
    }
  }
}
