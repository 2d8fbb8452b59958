/**
 * Reads the PromQL of a Grafana dashboard (deploy/grafana/zfs-fleet.json) and names the series
 * each query selects, so a test can hold the dashboard to the series the textfile exports.
 */

/** Every PromQL expression of a dashboard: panel targets (nested rows too) and template queries. */
export function dashboardQueries(dashboard: unknown): string[] {
  const queries: string[] = [];
  const visit = (node: unknown, key?: string): void => {
    if (Array.isArray(node)) for (const item of node) visit(item);
    else if (node && typeof node === 'object') for (const [name, value] of Object.entries(node)) visit(value, name);
    else if (typeof node === 'string' && (key === 'expr' || key === 'query' || key === 'definition')) queries.push(node);
  };
  visit(dashboard);
  return [...new Set(queries)];
}

/** PromQL's functions, aggregations and keywords: words in a query that are not series. */
const PROMQL_WORDS = new Set([
  'abs',
  'absent',
  'avg',
  'avg_over_time',
  'bool',
  'bottomk',
  'by',
  'ceil',
  'changes',
  'clamp_max',
  'clamp_min',
  'count',
  'count_over_time',
  'delta',
  'deriv',
  'floor',
  'group_left',
  'group_right',
  'idelta',
  'ignoring',
  'increase',
  'irate',
  'label_values',
  'last_over_time',
  'max',
  'max_over_time',
  'min',
  'min_over_time',
  'offset',
  'on',
  'or',
  'and',
  'unless',
  'rate',
  'resets',
  'round',
  'scalar',
  'sort',
  'sort_desc',
  'sum',
  'sum_over_time',
  'time',
  'timestamp',
  'topk',
  'vector',
  'without',
]);

/** The series names a PromQL expression selects (label matchers, label lists, ranges and strings set aside). */
export function metricNamesIn(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '$1')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\$\w+/g, '')
    // label_values(metric, label): the label is no series.
    .replace(/label_values\(\s*([a-zA-Z_:][\w:]*)\s*,\s*\w+\s*\)/g, 'label_values($1)');
  const words = bare.match(/[a-zA-Z_:][\w:]*/g) ?? [];
  return [...new Set(words.filter((word) => !PROMQL_WORDS.has(word) && !/^\d/.test(word)))];
}
