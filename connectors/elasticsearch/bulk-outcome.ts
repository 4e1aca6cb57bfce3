/**
 * What one item of a bulk response means for the record behind it. Writes use the `create` op
 * with the log id as `_id`: a replayed log answers 409 (already there), which counts as
 * written — so replays never duplicate and never rewrite a document.
 */
import type { estypes } from '@elastic/elasticsearch';

type BulkResponseItem = estypes.BulkResponseItem;

export type ItemOutcome =
  | { kind: 'written'; duplicate: boolean }
  /** Worth trying again later: the cluster was busy or failing (429, 5xx, rejected execution). */
  | { kind: 'retry'; status: number; reason: string }
  /** Will fail the same way every time (mapping or parse errors): dead-letter it. */
  | { kind: 'rejected'; status: number; type: string; reason: string };

export function itemOutcome(item: BulkResponseItem): ItemOutcome {
  const status = item.status;
  if (status >= 200 && status < 300) return { kind: 'written', duplicate: false };
  const type = item.error?.type ?? 'unknown';
  const reason = item.error?.reason ?? `status ${status}`;
  if (status === 409 && type === 'version_conflict_engine_exception')
    return { kind: 'written', duplicate: true };
  if (status === 429 || status >= 500 || type === 'es_rejected_execution_exception') {
    return { kind: 'retry', status, reason: `${type}: ${reason}` };
  }
  const caused = item.error?.caused_by?.reason ? ` (${item.error.caused_by.reason})` : '';
  return { kind: 'rejected', status, type, reason: `${reason}${caused}` };
}
