import { ERROR_CODES } from '../common/errors.ts';

/**
 * The README's error table, rendered from common/errors.ts so the two never drift:
 * `node --import tsx -e "import('./api/errors-doc.ts').then(m => console.log(m.renderErrorCodesTable()))"`.
 */
export function renderErrorCodesTable(): string {
  const rows = Object.entries(ERROR_CODES).map(
    ([code, { status, message }]) => `| \`${code}\` | ${status} | ${message} |`,
  );
  return ['| Code | HTTP status | Meaning |', '|---|---|---|', ...rows].join('\n');
}
