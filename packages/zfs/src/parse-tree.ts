import { FleetError, type DatasetInfo, type DatasetName, type DatasetTree, type SnapshotInfo, type SnapshotName } from '@zfs-fleet/protocol';

/** The properties one `zfs get` call reads for a whole tree (see listTreeArgs). */
export const TREE_PROPERTIES = ['type', 'guid', 'createtxg', 'creation', 'referenced', 'canmount'] as const;
/** Hold counts: asked for only where pruning needs them, so replication's listing stays as it was. */
export const HOLDS_PROPERTY = 'userrefs';
export const RESUME_TOKEN_PROPERTY = 'receive_resume_token';
export const ENCRYPTION_PROPERTY = 'encryption';
/**
 * zfs-fleet marks the datasets it creates (receive roots, parents of copies) with this user
 * property, set locally. Only such a dataset, still without snapshots, may be received over
 * without --force: a local value is proof of origin, an inherited or received one is not.
 */
export const CREATED_PROPERTY = 'zfs-fleet:created';
/** The columns listTree asks for: `received` and `source` tell a copy's own values from the source's. */
export const TREE_COLUMNS = 'name,property,value,received,source';

interface Cell {
  value: string;
  received: string;
  source: string;
}
type Row = Map<string, Cell>;

/**
 * Parses `zfs get -H -p -o name,property,value[,received,source] PROPS...` output
 * (tab-separated, exact numbers) into datasets with their snapshots. Datasets come out
 * parents-first, snapshots oldest-first by createtxg: creation times have one-second
 * resolution and names sort arbitrarily. Names may hold spaces: only tabs separate fields.
 */
export function parseTree(output: string): DatasetTree {
  // A fleet-wide plan parses thousands of these (50 datasets × 30 snapshots is 8,000 lines):
  // fields are cut with indexOf rather than split and trim, and a name's rows are consecutive.
  const rows = new Map<string, Row>();
  let row: Row | undefined;
  let rowName: string | undefined;
  // zfs ends every line, the last one too: output that stops mid-line was cut (a killed zfs, a full pipe), and a cut value ("1234" of a guid) would read as another one.
  if (output.trim() !== '' && !output.endsWith('\n')) throw unparsable('it ends in the middle of a line (truncated?)', output.slice(-200));
  let columns: number | undefined;
  for (let start = 0, index = 1; start < output.length; index += 1) {
    let end = output.indexOf('\n', start);
    if (end < 0) end = output.length;
    const fields = cutFields(output, start, end);
    start = end + 1;
    if (fields.length === 1 && fields[0]!.trim() === '') continue;
    if (fields.length !== 3 && fields.length !== 5) throw unparsable(`line ${index} has ${fields.length} fields, expected 3 or 5`, fields.join('\t'));
    columns ??= fields.length;
    if (fields.length !== columns) throw unparsable(`line ${index} has ${fields.length} fields where the lines before it have ${columns}`, fields.join('\t'));
    const [name, property, value, received = '-', source = '-'] = fields as [string, string, string, string?, string?];
    if (name !== rowName) {
      rowName = name;
      row = rows.get(name);
      if (!row) rows.set(name, (row = new Map()));
    }
    row!.set(property, { value, received, source });
  }

  const datasets = new Map<string, DatasetInfo>();
  const snapshots: Array<[dataset: string, snapshot: SnapshotInfo]> = [];
  for (const [name, row] of rows) {
    const type = required(row, name, 'type');
    if (type === 'snapshot') {
      const at = name.indexOf('@');
      snapshots.push([
        name.slice(0, at),
        {
          // Names come from zfs itself, so they are valid by construction.
          name: name.slice(at + 1) as SnapshotName,
          guid: guidOf(row, name),
          createtxg: integer(row, name, 'createtxg'),
          createdAt: integer(row, name, 'creation') * 1000,
          // A hold pins a snapshot whoever placed it: pruning must see it.
          ...(/^[0-9]+$/.test(row.get(HOLDS_PROPERTY)?.value ?? '') ? { holds: Number(row.get(HOLDS_PROPERTY)?.value) } : {}),
        },
      ]);
    } else if (type === 'filesystem' || type === 'volume') {
      const token = row.get(RESUME_TOKEN_PROPERTY)?.value;
      const encryption = row.get(ENCRYPTION_PROPERTY)?.value;
      const created = row.get(CREATED_PROPERTY);
      const canmount = row.get('canmount');
      datasets.set(name, {
        name: name as DatasetName,
        type,
        guid: guidOf(row, name),
        referencedBytes: integer(row, name, 'referenced'),
        snapshots: [],
        ...(token && token !== '-' ? { resumeToken: token } : {}),
        ...(encryption !== undefined ? { encrypted: encryption !== 'off' && encryption !== '-' } : {}),
        ...(created ? { createdByFleet: created.source === 'local' && created.value !== '-' } : {}),
        ...(canmount && type === 'filesystem' && canmount.value !== '-' ? { canmount: { value: canmount.value, ...(canmount.received !== '-' ? { received: canmount.received } : {}) } } : {}),
      });
    }
    // Bookmarks and other types are not part of the tree.
  }
  for (const [dataset, snapshot] of snapshots) datasets.get(dataset)?.snapshots.push(snapshot);
  for (const dataset of datasets.values()) dataset.snapshots.sort((a, b) => a.createtxg - b.createtxg);
  // Plain string order puts every parent before its children ("a" < "a/b").
  return { datasets: [...datasets.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) };
}

/** The tab-separated fields of `text` between `start` and `end`: `split` on a slice of a large string is several times slower. */
function cutFields(text: string, start: number, end: number): string[] {
  const fields: string[] = [];
  for (let tab = text.indexOf('\t', start); tab >= 0 && tab < end; tab = text.indexOf('\t', start)) {
    fields.push(text.slice(start, tab));
    start = tab + 1;
  }
  fields.push(text.slice(start, end));
  return fields;
}

function required(row: Row, name: string, property: string): string {
  const value = row.get(property)?.value;
  if (value === undefined) throw unparsable(`"${name}" has no ${property}`, name);
  return value;
}

function integer(row: Row, name: string, property: string): number {
  const value = required(row, name, property);
  if (!/^[0-9]+$/.test(value)) throw unparsable(`${property} of "${name}" is "${value}", expected an exact integer (was -p given?)`, value);
  return Number(value);
}

function guidOf(row: Row, name: string): string {
  const value = required(row, name, 'guid');
  // Without -p zfs rounds guids ("2.49E"), which would make different snapshots look equal.
  if (!/^[0-9]+$/.test(value)) throw unparsable(`guid of "${name}" is "${value}", expected an exact integer`, value);
  return value;
}

function unparsable(reason: string, sample: string): FleetError {
  return new FleetError('ZFS_OUTPUT_INVALID', `Unexpected zfs output: ${reason}; nothing was planned from it.`, {
    hint: 'Run the same `zfs get` on that host by hand: a zfs wrapper, a broken zfs or a dying pool prints output zfs-fleet will not trust.',
    details: { sample: sample.slice(0, 200) },
  });
}
