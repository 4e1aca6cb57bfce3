/**
 * `node --import tsx bench/ingest-profile.ts <file.cpuprofile> [top]`: where a stage's CPU went —
 * self time per function and per package/file, and inclusive time (the function and everything it
 * called) per function, as shares of the profile's busy time. Used with
 * `LOGFLOW_BENCH_CPU_PROF=<dir> npm run bench -- ingest …`, which profiles each stage process.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const [file, topArg] = process.argv.slice(2);
const top = Number(topArg ?? 30);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i];
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}
const totalUs = profile.endTime - profile.startTime;

/** node_modules/<pkg>, or the repo-relative file, or the V8 pseudo-frame name. */
function area(url: string, fn: string): string {
  if (!url) return `(${fn || 'native'})`;
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) return url;
  const m = /\/work\/main\/(.*)$/.exec(url);
  return m ? m[1] : url;
}

const fnTotals = new Map<string, number>();
const areaTotals = new Map<string, number>();
for (const [id, us] of selfUs) {
  const { callFrame: cf } = byId.get(id)!;
  const where = area(cf.url, cf.functionName);
  const nm = cf.url.lastIndexOf('node_modules/');
  const file = nm >= 0 ? cf.url.slice(nm + 'node_modules/'.length) : where;
  const fnKey = `${cf.functionName || '(anonymous)'}  ${file}:${cf.lineNumber + 1}`;
  fnTotals.set(fnKey, (fnTotals.get(fnKey) ?? 0) + us);
  areaTotals.set(where, (areaTotals.get(where) ?? 0) + us);
}
const idle = [...selfUs].reduce(
  (n, [id, us]) => (byId.get(id)!.callFrame.functionName === '(idle)' ? n + us : n),
  0,
);
const busy = totalUs - idle;
const pct = (us: number) => `${((100 * us) / busy).toFixed(1).padStart(5)} %`;
console.log(
  `${file}: ${(totalUs / 1e6).toFixed(1)} s profiled, ${(busy / 1e6).toFixed(1)} s on CPU (shares below are of CPU time)`,
);
console.log('\nby area (self time):');
for (const [k, us] of [...areaTotals].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  if (k === '((idle))') continue;
  console.log(`${pct(us)}  ${k}`);
}
console.log('\nby function (self time):');
for (const [k, us] of [...fnTotals].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  if (k.startsWith('(idle)')) continue;
  console.log(`${pct(us)}  ${k}`);
}

// Inclusive time: each sample counts once for every distinct function on its stack.
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const fnOf = (id: number) => {
  const { callFrame: cf } = byId.get(id)!;
  const nm = cf.url.lastIndexOf('node_modules/');
  const file = nm >= 0 ? cf.url.slice(nm + 'node_modules/'.length) : area(cf.url, cf.functionName);
  return `${cf.functionName || '(anonymous)'}  ${file}:${cf.lineNumber + 1}`;
};
const inclusive = new Map<string, number>();
for (const [id, us] of selfUs) {
  if (byId.get(id)!.callFrame.functionName === '(idle)') continue;
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const key = fnOf(at);
    if (seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + us);
  }
}
console.log('\nby function (inclusive time):');
for (const [k, us] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top * 2)) {
  if (k.startsWith('(root)') || k.startsWith('(program)')) continue;
  console.log(`${pct(us)}  ${k}`);
}
