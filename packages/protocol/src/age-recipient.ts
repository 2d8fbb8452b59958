/**
 * age X25519 recipients are Bech32 strings (`age1` + 58 characters, BIP 173 checksum). A
 * recipient is checked here, with its checksum, before any host is asked to encrypt to it: a
 * typo would otherwise produce exports nobody can ever decrypt.
 */
const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

function polymod(values: readonly number[]): number {
  let checksum = 1;
  for (const value of values) {
    const top = checksum >>> 25;
    checksum = ((checksum & 0x1ffffff) << 5) ^ value;
    for (let bit = 0; bit < 5; bit += 1) if ((top >>> bit) & 1) checksum ^= GENERATOR[bit]!;
  }
  return checksum;
}

/** Why `value` is not an age X25519 recipient, or undefined when it is one. */
export function explainAgeRecipient(value: string): string | undefined {
  if (/^AGE-SECRET-KEY-/i.test(value)) return 'is an age identity (a private key): give its public key ("age1...", `age-keygen -y`), never the secret';
  if (/^(ssh-|ecdsa-)/.test(value)) return 'is an ssh public key: only age X25519 recipients ("age1...") are accepted';
  if (value !== value.toLowerCase()) return 'is not an age recipient: age1... in lower case';
  const separator = value.lastIndexOf('1');
  const prefix = value.slice(0, separator);
  const data = value.slice(separator + 1);
  if (prefix !== 'age' || data.length !== 58) return 'is not an age recipient: "age1" followed by 58 characters';
  const values = [...data].map((character) => CHARSET.indexOf(character));
  if (values.includes(-1)) return 'is not an age recipient: a character outside the Bech32 alphabet';
  const expanded = [...[...prefix].map((c) => c.charCodeAt(0) >> 5), 0, ...[...prefix].map((c) => c.charCodeAt(0) & 31), ...values];
  if (polymod(expanded) !== 1) return 'is not an age recipient: its checksum is wrong (a typo?)';
  return undefined;
}
