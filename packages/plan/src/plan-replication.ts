import { explainDatasetName, parentOf, type DatasetName } from '@zfs-fleet/protocol';
import { collapseTree, describeMirroredDeletions } from './collapse-tree.ts';
import { planDataset } from './plan-dataset.ts';
import { selectDatasets } from './select-datasets.ts';
import { blockedStep, withWarnings, type BlockedStep, type PlanInput, type ReplicationPlan, type ReplicationStep } from './steps.ts';

/**
 * Decides, per dataset, what one backup entry sends to one peer. Pure: the same two trees
 * always give the same plan, which is what `fleet plan` prints and `fleet backup` runs.
 */
export function planReplication(input: PlanInput): ReplicationPlan {
  const rootNamed = nameDestination(input.root, input);
  const rootWhere = { dataset: input.root, destination: rootNamed.kind === 'named' ? rootNamed.destination : input.root };
  if (!input.source.datasets.some((dataset) => dataset.name === input.root)) {
    return { root: input.root, steps: [blockedStep(rootWhere, 'DATASET_NOT_FOUND', `"${input.root}" does not exist on the source host.`)] };
  }
  const selection = selectDatasets(input.source, input.root, input);
  const destinations = new Map(input.destination.datasets.map((dataset) => [dataset.name, dataset]));

  const steps: ReplicationStep[] = [];
  const blockedByDataset = new Map<string, BlockedStep>();
  for (const dataset of selection.datasets) {
    const named = nameDestination(dataset.name, input);
    if (named.kind === 'blocked') {
      blockedByDataset.set(dataset.name, named);
      steps.push(named);
      continue;
    }
    const where = { dataset: dataset.name, destination: named.destination };
    let step = planDataset(dataset, destinations.get(where.destination), where, input);
    // A child not yet on the peer would be received below its parent: it waits for the parent.
    // Children already there replicate on their own, so one blocked dataset stops no more than it must.
    const parent = dataset.name === input.root ? undefined : parentOf(dataset.name);
    const blockedParent = parent === undefined ? undefined : blockedByDataset.get(parent);
    if (blockedParent && step.kind !== 'blocked' && !destinations.has(where.destination)) {
      step = withWarnings(blockedStep(where, blockedParent.code, `its parent "${blockedParent.dataset}" is blocked, and it would be received below it.`, { parent: blockedParent.dataset }), step.warnings ?? []);
    }
    if (step.kind === 'blocked') blockedByDataset.set(dataset.name, step);
    steps.push(step);
  }

  const collapsed = input.recursive && !selection.excludedAny ? collapseTree(steps, input) : undefined;
  if (!collapsed) return { root: input.root, steps };
  const deletions = collapsed.kind === 'incremental' && collapsed.force ? describeMirroredDeletions(selection.datasets, input.destination.datasets, rootWhere.destination, (name: DatasetName) => input.destinationOf(name)) : [];
  return { root: input.root, steps: [withWarnings(collapsed, deletions)] };
}

/**
 * Where a dataset lands, or a blocked step if zfs-fleet cannot name it safely. Listings carry
 * whatever names zfs accepts (they are not validated on the way out), so a name outside our
 * rules, or one too long once placed under the receive root, stops that dataset only.
 */
function nameDestination(dataset: string, input: PlanInput): { kind: 'named'; destination: DatasetName } | BlockedStep {
  const problem = explainDatasetName(dataset);
  const fallback = { dataset: dataset as DatasetName, destination: dataset as DatasetName };
  if (problem) return blockedStep(fallback, 'DATASET_NAME_INVALID', `the dataset name "${dataset}" ${problem}; zfs-fleet leaves it alone.`);
  try {
    return { kind: 'named', destination: input.destinationOf(dataset as DatasetName) };
  } catch (error) {
    return blockedStep(fallback, 'DATASET_NAME_INVALID', `its copy cannot be named on the destination: ${error instanceof Error ? error.message : String(error)}`);
  }
}
