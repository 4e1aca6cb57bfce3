/**
 * Retention by index: a daily index is deleted once its whole day is older than the cutoff.
 * Deleting an index is instant and frees its disk at once, unlike deleting documents.
 */
import type { Client } from '@elastic/elasticsearch';
import { dailyIndexDay, dailyIndexEndsBefore } from './log-document.ts';

/** Names of the daily indices of `prefix`, oldest first, with the day each holds. */
export async function listDailyIndices(
  client: Client,
  prefix: string,
): Promise<{ name: string; day: number }[]> {
  const rows = await client.cat.indices({
    index: `${prefix}-*`,
    format: 'json',
    h: 'index',
    expand_wildcards: 'open',
  });
  const out: { name: string; day: number }[] = [];
  for (const row of rows as { index?: string }[]) {
    const day = row.index ? dailyIndexDay(prefix, row.index) : undefined;
    if (row.index && day !== undefined) out.push({ name: row.index, day });
  }
  return out.sort((a, b) => a.day - b.day);
}

/** Deletes the daily indices that hold only logs older than `cutoffMs`; returns their names. */
export async function deleteIndicesOlderThan(
  client: Client,
  prefix: string,
  cutoffMs: number,
): Promise<string[]> {
  const old = (await listDailyIndices(client, prefix)).filter((i) => dailyIndexEndsBefore(i.day, cutoffMs));
  // In groups: a URL listing hundreds of indices could exceed the HTTP line limit.
  for (let i = 0; i < old.length; i += 50) {
    await client.indices.delete({ index: old.slice(i, i + 50).map((x) => x.name) }, { ignore: [404] });
  }
  return old.map((x) => x.name);
}
