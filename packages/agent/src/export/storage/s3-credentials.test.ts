import { describe, expect, test } from 'vitest';
import { parseS3Credentials } from './s3-credentials.ts';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

describe('parseS3Credentials', () => {
  test.each([
    ['plain lines', `AWS_ACCESS_KEY_ID=AKID\nAWS_SECRET_ACCESS_KEY=${SECRET}\n`, { accessKeyId: 'AKID', secretAccessKey: SECRET }],
    ['comments, blank lines, export and quotes', `# s3\n\nexport AWS_ACCESS_KEY_ID="AKID"\nAWS_SECRET_ACCESS_KEY='${SECRET}'\r\n`, { accessKeyId: 'AKID', secretAccessKey: SECRET }],
    ['a session token', `AWS_ACCESS_KEY_ID=AKID\nAWS_SECRET_ACCESS_KEY=${SECRET}\nAWS_SESSION_TOKEN=tok`, { accessKeyId: 'AKID', secretAccessKey: SECRET, sessionToken: 'tok' }],
    ['other variables are ignored', `AWS_REGION=eu\nAWS_ACCESS_KEY_ID=AKID\nAWS_SECRET_ACCESS_KEY=${SECRET}`, { accessKeyId: 'AKID', secretAccessKey: SECRET }],
    ['a missing secret', 'AWS_ACCESS_KEY_ID=AKID', { problem: 'it has no AWS_SECRET_ACCESS_KEY line' }],
    ['a missing key id', `AWS_SECRET_ACCESS_KEY=${SECRET}`, { problem: 'it has no AWS_ACCESS_KEY_ID line' }],
    ['an empty value', `AWS_ACCESS_KEY_ID=\nAWS_SECRET_ACCESS_KEY=${SECRET}`, { problem: 'AWS_ACCESS_KEY_ID on line 1 is empty' }],
    ['a line that is no assignment', `AWS_ACCESS_KEY_ID=AKID\n${SECRET}`, { problem: 'line 2 is not NAME=VALUE' }],
    ['an empty file', '', { problem: 'it has no AWS_ACCESS_KEY_ID line' }],
  ])('%s', (_title, text, expected) => {
    expect(parseS3Credentials(text)).toEqual(expected);
  });

  test('no problem message repeats the secret', () => {
    for (const text of [`${SECRET}`, `AWS_ACCESS_KEY_ID=AKID\n${SECRET} x`, `AWS_SECRET_ACCESS_KEY=${SECRET}`]) {
      const result = parseS3Credentials(text);
      expect('problem' in result && result.problem).not.toContain(SECRET.slice(0, 8));
    }
  });
});
