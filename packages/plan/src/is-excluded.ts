/**
 * Whether `dataset` (inside the backup entry's `root`) is excluded. A pattern names a dataset
 * by its full name or by its path relative to the root, with `*` matching any characters
 * within one path component; excluding a dataset excludes everything below it, so
 * `scratch/*` excludes scratch's children but keeps scratch. The root itself is never
 * excluded: that would be an entry with nothing to do.
 */
export function isExcluded(dataset: string, root: string, patterns: readonly string[]): boolean {
  if (dataset === root || patterns.length === 0 || !dataset.startsWith(`${root}/`)) return false;
  const relative = dataset.slice(root.length + 1).split('/');
  const matchers = patterns.map(globToRegExp);
  // Match every ancestor up to the dataset too: an excluded parent takes its subtree along.
  for (let depth = 1; depth <= relative.length; depth += 1) {
    const relativePrefix = relative.slice(0, depth).join('/');
    const fullPrefix = `${root}/${relativePrefix}`;
    if (matchers.some((matcher) => matcher.test(relativePrefix) || matcher.test(fullPrefix))) return true;
  }
  return false;
}

function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*+/g, '[^/]*');
  return new RegExp(`^${escaped}$`);
}
