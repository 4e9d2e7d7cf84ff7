/** `-o table|json`: a table for a terminal, JSON when piped or asked. */
export type Format = 'table' | 'json';

export function formatOf(asked: string | undefined): Format {
  if (asked === 'json' || asked === 'table') return asked;
  return process.stdout.isTTY ? 'table' : 'json';
}

export interface Column<T> {
  header: string;
  value: (row: T) => unknown;
}

const cell = (v: unknown): string => {
  if (v === null || v === undefined) return '-';
  if (Array.isArray(v)) return v.some((x) => typeof x === 'object' && x !== null) ? JSON.stringify(v) : v.join(',') || '-';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
};

/** Left-aligned columns separated by two spaces, headers in capitals. */
export function table<T>(rows: readonly T[], columns: ReadonlyArray<Column<T>>): string {
  const cells = rows.map((r) => columns.map((c) => cell(c.value(r))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) => values.map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]!))).join('  ');
  return [line(columns.map((c) => c.header.toUpperCase())), ...cells.map(line)].join('\n') + '\n';
}

/** Prints `value` as JSON, or as the table/lines `render` makes of it. */
export function print<T>(format: Format, value: T, render?: (v: T) => string): void {
  if (format === 'json' || !render) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  else process.stdout.write(render(value));
}

/** Key: value lines for one object (a table of one). */
export function fields(o: Record<string, unknown>): string {
  const keys = Object.keys(o);
  const width = Math.max(...keys.map((k) => k.length));
  return keys.map((k) => `${`${k}:`.padEnd(width + 1)} ${cell(o[k])}`).join('\n') + '\n';
}
