/**
 * One POST to one receiver, through the SSRF guard's lookup, with a timeout. Never throws:
 * the outcome says whether to retry.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { describeError, isLogFlowError } from '../../common/errors.ts';
import type { TargetGuard } from './ssrf-guard.ts';

export type PostOutcome =
  | { ok: true; status: number }
  | { ok: false; retriable: boolean; status: number | null; error: string };

export async function postJson(
  url: string,
  body: string,
  headers: Record<string, string>,
  guard: TargetGuard,
  timeoutMs: number,
): Promise<PostOutcome> {
  try {
    await guard.assertTargetAllowed(url);
  } catch (err) {
    return { ok: false, retriable: false, status: null, error: describeError(err) };
  }
  const target = new URL(url);
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<PostOutcome>((resolve) => {
    const req = request(
      target,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          ...headers,
        },
        lookup: guard.guardedLookup as never,
        timeout: timeoutMs,
      },
      (res) => {
        res.resume(); // drain: the body is not needed
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve({ ok: true, status });
          // 4xx means the receiver will never accept this payload, except timeouts and rate limits.
          else
            resolve({
              ok: false,
              retriable: status >= 500 || status === 408 || status === 429,
              status,
              error: `HTTP ${status}`,
            });
        });
        res.on('error', (err) =>
          resolve({ ok: false, retriable: true, status: null, error: describeError(err) }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on('error', (err) =>
      resolve({ ok: false, retriable: !isLogFlowError(err), status: null, error: describeError(err) }),
    );
    req.end(body);
  });
}
