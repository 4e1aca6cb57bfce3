/**
 * What the generated logs say: the seed's five services and, per service and level, message
 * templates with realistic ids, error codes, latencies and key=value pairs. A template returns
 * the human message and the structured fields; the text format appends the fields as
 * `key=value`, the JSON format writes them as properties.
 */
import type { Rng } from './random.ts';

export const SERVICES = [
  'payment-service',
  'auth-service',
  'user-service',
  'order-service',
  'inventory-service',
] as const;
export type Service = (typeof SERVICES)[number];

export type GeneratedLevel = 'INFO' | 'WARN' | 'ERROR' | 'DEBUG';

/** The seed's level mix, in percent. */
export const LEVEL_MIX: readonly [GeneratedLevel, number][] = [
  ['INFO', 70],
  ['WARN', 15],
  ['ERROR', 10],
  ['DEBUG', 5],
];

export interface Template {
  message: string;
  fields: Record<string, string | number>;
}

type Make = (r: Rng) => Template;

const orderId = (r: Rng) => `order_${r.int(10000, 99999)}`;
const userId = (r: Rng) => `user_${r.int(1000, 9999)}`;
const sku = (r: Rng) => `SKU-${r.int(100000, 999999)}`;
const latency = (r: Rng, lo: number, hi: number) => r.int(lo, hi);
const amount = (r: Rng) => (r.int(500, 50000) / 100).toFixed(2);
const ip = (r: Rng) => `10.${r.int(0, 255)}.${r.int(0, 255)}.${r.int(1, 254)}`;
const requestId = (r: Rng) =>
  `req-${Math.floor(r.next() * 0xffffffff)
    .toString(16)
    .padStart(8, '0')}`;

const ERROR_CODES: readonly [string, string][] = [
  ['E500', 'Internal error'],
  ['E502', 'Bad gateway from upstream'],
  ['E503', 'Service unavailable'],
  ['E504', 'Upstream timeout'],
  ['E1001', 'Database connection timeout'],
  ['E1002', 'Deadlock detected'],
  ['E2001', 'Cache cluster unreachable'],
];

const COMMON: Record<GeneratedLevel, Make[]> = {
  INFO: [
    (r) => ({
      message: `Request completed GET /api/v1/health`,
      fields: { request_id: requestId(r), status: 200, latency_ms: latency(r, 1, 20) },
    }),
  ],
  WARN: [
    (r) => ({
      message: `Slow response from dependency`,
      fields: { request_id: requestId(r), latency_ms: latency(r, 800, 4000), threshold_ms: 500 },
    }),
    (r) => ({
      message: `Retrying request to upstream (attempt ${r.int(2, 5)} of 5)`,
      fields: { request_id: requestId(r), backoff_ms: 100 * 2 ** r.int(1, 5) },
    }),
  ],
  ERROR: [
    (r) => {
      const [code, text] = r.pick(ERROR_CODES);
      return {
        message: text,
        fields: { error_code: code, request_id: requestId(r), latency_ms: latency(r, 1000, 30000) },
      };
    },
  ],
  DEBUG: [
    (r) => ({
      message: `Cache ${r.chance(0.8) ? 'hit' : 'miss'} for key session:${userId(r)}`,
      fields: { latency_ms: latency(r, 0, 3) },
    }),
  ],
};

const BY_SERVICE: Record<Service, Record<GeneratedLevel, Make[]>> = {
  'payment-service': {
    INFO: [
      (r) => ({
        message: `Payment completed for order ${orderId(r)}`,
        fields: { amount: amount(r), currency: 'EUR', latency_ms: latency(r, 40, 400) },
      }),
      (r) => ({
        message: `Refund issued for order ${orderId(r)}`,
        fields: { amount: amount(r), user_id: userId(r) },
      }),
    ],
    WARN: [
      (r) => ({
        message: `Payment gateway responded slowly for order ${orderId(r)}`,
        fields: { latency_ms: latency(r, 1500, 5000) },
      }),
    ],
    ERROR: [
      (r) => ({
        message: `Payment gateway unavailable`,
        fields: { error_code: 'E503', order_id: orderId(r), latency_ms: latency(r, 3000, 10000) },
      }),
      (r) => ({
        message: `Card declined for order ${orderId(r)}`,
        fields: { error_code: 'E402', user_id: userId(r) },
      }),
    ],
    DEBUG: [
      (r) => ({ message: `Fraud score computed for order ${orderId(r)}`, fields: { score: r.int(0, 100) } }),
    ],
  },
  'auth-service': {
    INFO: [
      (r) => ({
        message: `User ${userId(r)} logged in`,
        fields: { ip: ip(r), method: r.pick(['password', 'sso', 'token']) },
      }),
      (r) => ({ message: `Token refreshed for ${userId(r)}`, fields: { ttl_s: 3600 } }),
    ],
    WARN: [
      (r) => ({
        message: `Failed login attempt for ${userId(r)}`,
        fields: { ip: ip(r), attempts: r.int(2, 6) },
      }),
    ],
    ERROR: [
      (r) => ({
        message: `Token signature verification failed`,
        fields: { error_code: 'E401', user_id: userId(r), ip: ip(r) },
      }),
    ],
    DEBUG: [
      (r) => ({ message: `Session lookup for ${userId(r)}`, fields: { latency_ms: latency(r, 0, 5) } }),
    ],
  },
  'user-service': {
    INFO: [
      (r) => ({
        message: `Profile updated for ${userId(r)}`,
        fields: { fields_changed: r.int(1, 5), latency_ms: latency(r, 5, 80) },
      }),
      (r) => ({
        message: `New user registered ${userId(r)}`,
        fields: { plan: r.pick(['free', 'pro', 'team']) },
      }),
    ],
    WARN: [
      (r) => ({
        message: `Email bounce for ${userId(r)}`,
        fields: { bounce_type: r.pick(['soft', 'hard']) },
      }),
    ],
    ERROR: [
      (r) => ({
        message: `Database connection timeout`,
        fields: { error_code: 'E1001', user_id: userId(r), latency_ms: latency(r, 5000, 30000) },
      }),
    ],
    DEBUG: [(r) => ({ message: `Loaded preferences for ${userId(r)}`, fields: { count: r.int(1, 40) } })],
  },
  'order-service': {
    INFO: [
      (r) => ({
        message: `Order ${orderId(r)} created`,
        fields: { user_id: userId(r), items: r.int(1, 8), total: amount(r) },
      }),
      (r) => ({
        message: `Order ${orderId(r)} shipped`,
        fields: { carrier: r.pick(['dhl', 'ups', 'fedex']) },
      }),
    ],
    WARN: [
      (r) => ({
        message: `Order ${orderId(r)} waiting for stock`,
        fields: { sku: sku(r), wait_s: r.int(10, 600) },
      }),
    ],
    ERROR: [
      (r) => ({
        message: `Failed to reserve stock for order ${orderId(r)}`,
        fields: { error_code: 'E409', sku: sku(r) },
      }),
    ],
    DEBUG: [
      (r) => ({
        message: `Pricing rules evaluated for order ${orderId(r)}`,
        fields: { rules: r.int(3, 30) },
      }),
    ],
  },
  'inventory-service': {
    INFO: [
      (r) => ({
        message: `Stock updated for ${sku(r)}`,
        fields: { quantity: r.int(0, 500), warehouse: r.pick(['fra-1', 'ams-2', 'dub-1']) },
      }),
      (r) => ({ message: `Reservation confirmed for ${sku(r)}`, fields: { order_id: orderId(r) } }),
    ],
    WARN: [(r) => ({ message: `Low stock for ${sku(r)}`, fields: { quantity: r.int(0, 5), threshold: 10 } })],
    ERROR: [
      (r) => ({
        message: `Warehouse sync failed`,
        fields: { error_code: 'E2001', warehouse: r.pick(['fra-1', 'ams-2', 'dub-1']) },
      }),
    ],
    DEBUG: [
      (r) => ({ message: `Reindexed ${r.int(10, 900)} items`, fields: { latency_ms: latency(r, 10, 200) } }),
    ],
  },
};

export function makeTemplate(r: Rng, service: Service, level: GeneratedLevel): Template {
  const own = BY_SERVICE[service][level];
  // Mostly service-specific messages, sometimes the generic ones every service logs.
  const pool = r.chance(0.8) ? own : COMMON[level];
  return r.pick(pool)(r);
}

const FRAMES = [
  'PaymentGateway.charge (gateway.ts:142:11)',
  'Pool.acquire (pg-pool/index.js:215:9)',
  'async OrderController.create (order-controller.ts:58:5)',
  'TokenVerifier.verify (jwt.ts:91:13)',
  'InventoryClient.reserve (inventory-client.ts:33:20)',
  'processTicksAndRejections (node:internal/process/task_queues:95:5)',
];

/**
 * A multi-line stack trace for the line that logged `message`: every line starts with
 * whitespace + `at `/`...`, or with `Caused by:`, which is what the shipper joins on.
 */
export function makeStackTrace(r: Rng, _message: string): string[] {
  const lines: string[] = [];
  const frames = r.int(3, 6);
  for (let i = 0; i < frames; i++) lines.push(`    at ${r.pick(FRAMES)}`);
  if (r.chance(0.4)) {
    lines.push(`Caused by: Error: connect ECONNREFUSED ${ip(r)}:5432`);
    lines.push(`    at ${r.pick(FRAMES)}`);
    lines.push(`    ... ${r.int(2, 12)} more`);
  }
  return lines;
}
