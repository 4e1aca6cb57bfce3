/** A parser for the Prometheus text exposition format (what GET /metrics serves). Pure. */

function parseLabels(text) {
  const labels = {};
  let i = 0;
  while (i < text.length) {
    while (text[i] === ',' || text[i] === ' ') i++;
    if (i >= text.length) break;
    const eq = text.indexOf('=', i);
    if (eq === -1) break;
    const name = text.slice(i, eq).trim();
    i = eq + 1;
    if (text[i] !== '"') break;
    i++;
    let value = '';
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\' && i + 1 < text.length) {
        const next = text[i + 1];
        value += next === 'n' ? '\n' : next;
        i += 2;
      } else value += text[i++];
    }
    i++;
    labels[name] = value;
  }
  return labels;
}

/** Finds the `}` that closes the label set, skipping quoted values (which may contain `}`). */
function closingBrace(line, from) {
  let quoted = false;
  for (let i = from; i < line.length; i++) {
    const c = line[i];
    if (quoted && c === '\\') i++;
    else if (c === '"') quoted = !quoted;
    else if (c === '}' && !quoted) return i;
  }
  return -1;
}

/** Every sample: `[{ name, labels, value }]`; comments and malformed lines are skipped. */
export function parsePrometheus(text) {
  const samples = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    let name;
    let labels = {};
    let rest;
    const brace = line.indexOf('{');
    const space = line.indexOf(' ');
    if (brace !== -1 && (space === -1 || brace < space)) {
      const end = closingBrace(line, brace + 1);
      if (end === -1) continue;
      name = line.slice(0, brace);
      labels = parseLabels(line.slice(brace + 1, end));
      rest = line.slice(end + 1).trim();
    } else {
      if (space === -1) continue;
      name = line.slice(0, space);
      rest = line.slice(space + 1).trim();
    }
    const valueText = rest.split(/\s+/)[0];
    const value =
      valueText === '+Inf'
        ? Number.POSITIVE_INFINITY
        : valueText === '-Inf'
          ? Number.NEGATIVE_INFINITY
          : Number(valueText);
    if (valueText === undefined || (Number.isNaN(value) && valueText !== 'NaN')) continue;
    samples.push({ name, labels, value });
  }
  return samples;
}

/** Sum of the samples of `name` whose labels match every entry of `match` (a value or a list of values). */
export function sumOf(samples, name, match = {}) {
  let total = 0;
  let found = false;
  for (const sample of samples) {
    if (sample.name !== name) continue;
    let ok = true;
    for (const [key, want] of Object.entries(match)) {
      const have = sample.labels[key];
      if (
        Array.isArray(want) ? !want.includes(have) : typeof want === 'function' ? !want(have) : have !== want
      ) {
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    found = true;
    total += sample.value;
  }
  return found ? total : undefined;
}
