import { isWithin, type DatasetInfo, type DatasetName, type DatasetTree } from '@zfs-fleet/protocol';
import { isExcluded } from './is-excluded.ts';

export interface Selection {
  /** The root, plus its descendants if recursive, minus excluded subtrees; parents first. */
  datasets: DatasetInfo[];
  /** Some descendant was left out, so one `-R` stream of the root would send too much. */
  excludedAny: boolean;
}

export function selectDatasets(source: DatasetTree, root: DatasetName, options: { recursive: boolean; exclude: readonly string[] }): Selection {
  const inTree = source.datasets.filter((dataset) => (options.recursive ? isWithin(dataset.name, root) : dataset.name === root));
  const datasets = inTree.filter((dataset) => !isExcluded(dataset.name, root, options.exclude));
  return { datasets: datasets.sort(parentsFirst), excludedAny: datasets.length < inTree.length };
}

/** Component-wise order: a parent's name is a prefix of its child's, so it always comes first. */
function parentsFirst(a: DatasetInfo, b: DatasetInfo): number {
  const left = a.name.split('/');
  const right = b.name.split('/');
  for (let i = 0; i < Math.min(left.length, right.length); i += 1) {
    if (left[i] !== right[i]) return left[i]! < right[i]! ? -1 : 1;
  }
  return left.length - right.length;
}
