import fc from 'fast-check';

/** C0 controls, DEL and C1 controls: what no config value, name or message line may carry raw. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

/** Pieces an attacker, a typo or a copy from a web page would put in a name, a path or a word. */
const HOSTILE_PIECES = [
  ...['a', 'Z', '0', ' ', ':', '.', '..', '-', '_', '/', '@', '#', '%', '-o', '--', ',', '{a,b}', '[', ']'],
  // Controls: NUL, newlines, tab, an escape sequence, DEL, a C1 CSI.
  ...['\u0000', '\n', '\r\n', '\t', '\u001b[2J', '\u007f', '\u009b'],
  // Shell syntax.
  ...['$(touch /tmp/x)', '`id`', ';', '|', '&&', '>', '<', '*', '?', '~', '!', "'", '"', '\\'],
  // Look-alikes and invisibles: Cyrillic a and e, a fullwidth solidus and letter, zero-width space, right-to-left override, no-break space, BOM.
  ...['\u0430', '\u0435', '\uff0f', '\uff41', '\u200b', '\u202e', '\u00a0', '\ufeff'],
];

/**
 * Any string, biased toward trouble: arbitrary code points, hostile pieces glued together
 * (alone or after a plausible head such as "tank/"), and very long strings.
 */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.array(fc.constantFrom(...HOSTILE_PIECES), { minLength: 1, maxLength: 12 }).map((pieces) => pieces.join('')),
  fc.tuple(fc.constantFrom('tank/', 'tank/a', 'backup', '/etc/', '30'), fc.array(fc.constantFrom(...HOSTILE_PIECES), { minLength: 1, maxLength: 6 })).map(([head, pieces]) => head + pieces.join('')),
  fc.string({ minLength: 250, maxLength: 600 }),
  fc.constantFrom(`tank/${'x'.repeat(250)}`, `tank/${'x'.repeat(251)}`, `tank/${'a'.repeat(5_000)}`, '-'.repeat(70_000)),
);
