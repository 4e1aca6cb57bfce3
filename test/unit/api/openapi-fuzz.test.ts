/**
 * Schema-driven fuzz: every operation in /openapi.json gets requests generated from its own
 * parameter and body schemas (valid-looking values mixed with junk). With admin credentials no
 * answer may be a 5xx; without credentials every /api/v1 route but login must answer 401.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, type Harness, startHarness } from './harness.ts';

type Schema = Record<string, unknown>;
interface Operation {
  parameters?: { name: string; in: string; required?: boolean; schema: Schema }[];
  requestBody?: { content: Record<string, { schema: Schema }> };
}

const TIMES = [
  '2026-03-01 10:00:00',
  '2026-03-01T10:00:00Z',
  '2026-03-01T10:00:00.123+02:00',
  '2026-02-30T25:61:00Z',
  'yesterday',
  '',
];
const junk = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.constant(null),
  fc.boolean(),
  fc.constant('../../etc/passwd'),
);

function arb(schema: Schema | undefined, doc: Schema, depth = 0): fc.Arbitrary<unknown> {
  if (!schema || depth > 5) return fc.jsonValue({ maxDepth: 2 });
  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.split('/').pop()!;
    return arb((doc.components as { schemas: Record<string, Schema> }).schemas[name], doc, depth + 1);
  }
  const base = ((): fc.Arbitrary<unknown> => {
    if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
    switch (schema.type) {
      case 'integer': {
        const min = typeof schema.minimum === 'number' ? schema.minimum : -1000;
        const max = typeof schema.maximum === 'number' ? Math.min(schema.maximum, 2 ** 31) : 100_000;
        return fc.oneof(fc.integer({ min, max }), fc.constantFrom(min - 1, max + 1, 0, 1, 2, 3));
      }
      case 'number':
        return fc.oneof(fc.double({ noNaN: true, min: -1e6, max: 1e6 }), fc.constantFrom(0, 0.5, 1, 10));
      case 'boolean':
        return fc.boolean();
      case 'string':
        if (typeof schema.pattern === 'string' && schema.pattern.includes('\\d{4}-'))
          return fc.constantFrom(...TIMES);
        return fc.oneof(
          fc.string({
            maxLength: typeof schema.maxLength === 'number' ? Math.min(schema.maxLength as number, 40) : 40,
          }),
          fc.constantFrom(
            'payment-service',
            'ERROR',
            'https://example.com/hook',
            'a@b.c',
            '5m',
            'auto',
            '1h',
          ),
        );
      case 'array':
        return fc.array(arb(schema.items as Schema, doc, depth + 1), { maxLength: 4 });
      case 'object': {
        const props = (schema.properties ?? {}) as Record<string, Schema>;
        const required = (schema.required ?? []) as string[];
        const model: Record<string, fc.Arbitrary<unknown>> = {};
        for (const [k, v] of Object.entries(props)) model[k] = arb(v, doc, depth + 1);
        return fc.record(model, { requiredKeys: required.filter((k) => k in model) });
      }
      default:
        return fc.jsonValue({ maxDepth: 2 });
    }
  })();
  const withNull = schema.nullable ? fc.oneof(base, fc.constant(null)) : base;
  // Mostly schema-shaped values, sometimes junk of the wrong type.
  return fc.oneof({ weight: 4, arbitrary: withNull }, { weight: 1, arbitrary: junk });
}

function requestArb(path: string, op: Operation, doc: Schema) {
  const params = op.parameters ?? [];
  const pathParams: Record<string, fc.Arbitrary<unknown>> = {};
  const query: Record<string, fc.Arbitrary<unknown>> = {};
  for (const p of params) {
    if (p.in === 'path')
      pathParams[p.name] = fc.oneof(arb(p.schema, doc), fc.constantFrom('1', '2', 'x', '%20', '0'));
    if (p.in === 'query') query[p.name] = arb(p.schema, doc);
  }
  const bodySchema = op.requestBody?.content?.['application/json']?.schema;
  return fc
    .record({
      path: fc.record(pathParams),
      query: fc.record(query, { requiredKeys: [] }),
      extraQuery: fc.option(fc.constantFrom('unknown=1', 'limit=-5', 'time_range=1y'), { nil: undefined }),
      body: bodySchema ? fc.option(arb(bodySchema, doc), { nil: undefined }) : fc.constant(undefined),
    })
    .map(({ path: pp, query: q, extraQuery, body }) => {
      let url = path.replace(/\{(\w+)\}/g, (_, name) => encodeURIComponent(String(pp[name] ?? '1')));
      const qs = Object.entries(q)
        .flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x]) : [[k, v]]))
        .map(([k, v]) => `${encodeURIComponent(String(k))}=${encodeURIComponent(String(v))}`);
      if (extraQuery) qs.push(extraQuery);
      if (qs.length) url += `?${qs.join('&')}`;
      return { url, body };
    });
}

describe('OpenAPI-driven fuzz of every route', () => {
  let h: Harness;
  let doc: Schema;
  let operations: { method: string; path: string; op: Operation }[];

  beforeAll(async () => {
    h = await startHarness();
    doc = (await h.app.inject({ url: '/openapi.json' })).json();
    operations = Object.entries(doc.paths as Record<string, Record<string, Operation>>).flatMap(
      ([path, ops]) =>
        Object.entries(ops).map(([method, op]) => ({ method: method.toUpperCase(), path, op })),
    );
  });
  afterAll(async () => {
    await h?.close();
  });

  it('covers every route of the API', () => {
    expect(operations.length).toBeGreaterThanOrEqual(35);
  });

  it('no generated request gets a 5xx (admin API key)', async () => {
    for (const { method, path, op } of operations) {
      // The live tail streams forever when the request is valid; its inputs are tested in logs.test.ts.
      if (path === '/api/v1/logs/tail') continue;
      await fc.assert(
        fc.asyncProperty(requestArb(path, op, doc), async ({ url, body }) => {
          const res = await h.app.inject({
            method: method as 'GET',
            url,
            headers: { 'x-api-key': h.apiKey },
            ...(body === undefined
              ? {}
              : {
                  payload: JSON.stringify(body),
                  headers: { 'x-api-key': h.apiKey, 'content-type': 'application/json' },
                }),
          });
          if (res.statusCode >= 500)
            throw new Error(`${method} ${url} ${JSON.stringify(body)} → ${res.statusCode} ${res.body}`);
          if (res.statusCode >= 400) errorCode(res);
        }),
        { numRuns: 25 },
      );
    }
  });

  it('no /api/v1 route but login answers without credentials (or with bad ones)', async () => {
    const creds = fc.constantFrom<Record<string, string>>(
      {},
      { authorization: 'Bearer x.y.z' },
      { authorization: 'Bearer ' },
      { 'x-api-key': 'lf_nope' },
      { authorization: 'ApiKey ' },
    );
    for (const { method, path, op } of operations) {
      if (!path.startsWith('/api/v1') || path === '/api/v1/auth/login') continue;
      await fc.assert(
        fc.asyncProperty(requestArb(path, op, doc), creds, async ({ url, body }, headers) => {
          const res = await h.app.inject({
            method: method as 'GET',
            url,
            headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
            ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
          });
          if (res.statusCode !== 401)
            throw new Error(`${method} ${url} answered ${res.statusCode} without valid credentials`);
          expect(errorCode(res)).toMatch(/^LF_ERR_AUTH_(REQUIRED|INVALID)$/);
        }),
        { numRuns: 10 },
      );
    }
  });
});
