/**
 * Minimal glob expansion for the shipper's inputs (`*`, `?`, `[abc]` within a path segment and
 * `**` across directories). Node 20 has no fs.glob; a dependency for this is not worth it.
 * Unreadable directories are skipped: a glob must never crash the shipper.
 */
import { readdir } from 'node:fs/promises';
import { isAbsolute, join, resolve, sep } from 'node:path';

const MAGIC = /[*?[]/;

function segmentRegex(segment: string): RegExp {
  let re = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = segment.indexOf(']', i + 1);
      if (close === -1) re += '\\[';
      else {
        re += `[${segment
          .slice(i + 1, close)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\')}]`;
        i = close;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export function hasMagic(pattern: string): boolean {
  return MAGIC.test(pattern);
}

/** Absolute paths of regular entries matching `pattern` (directories not checked here). */
export async function expandGlob(pattern: string): Promise<string[]> {
  const abs = isAbsolute(pattern) ? pattern : resolve(pattern);
  if (!hasMagic(abs)) return [abs];
  const segments = abs.split(sep).filter(Boolean);
  const out: string[] = [];
  await walk(sep, segments, out);
  return out;
}

async function walk(dir: string, segments: string[], out: string[]): Promise<void> {
  if (segments.length === 0) return;
  const [head, ...rest] = segments;
  if (!hasMagic(head)) {
    const next = join(dir, head);
    if (rest.length === 0) out.push(next);
    else await walk(next, rest, out);
    return;
  }
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  if (head === '**') {
    await walk(dir, rest, out); // zero directories
    for (const e of entries) if (e.isDirectory()) await walk(join(dir, e.name), segments, out);
    return;
  }
  const re = segmentRegex(head);
  for (const e of entries) {
    if (!re.test(e.name)) continue;
    if (rest.length === 0) {
      if (!e.isDirectory()) out.push(join(dir, e.name));
    } else if (e.isDirectory()) await walk(join(dir, e.name), rest, out);
  }
}
