import { describe, expect, it } from 'vitest';
import { parseResumeToken } from './resume-token.ts';

describe('parseResumeToken', () => {
  it('reads target, its guid and the base guid of an incremental token', () => {
    const output = 'resume token contents:\nnvlist version: 0\n\tfromguid = 0x10\n\tobject = 0x2\n\toffset = 0x0\n\tbytes = 0x1f4\n\ttoguid = 0x20\n\ttoname = tank/a@next\n\tcompressok = 1\n';
    expect(parseResumeToken(output)).toEqual({ toName: 'tank/a@next', toGuid: '32', fromGuid: '16' });
  });

  it('converts nvlist hex to the decimal guids of the trees', () => {
    expect(parseResumeToken('resume token contents:\nnvlist version: 0\n\ttoguid = 0xffffffffffffffff\n\ttoname = tank/a@s\n')).toEqual({ toName: 'tank/a@s', toGuid: '18446744073709551615' });
  });

  it('returns undefined for anything else', () => {
    expect(parseResumeToken('cannot resume send: invalid token\n')).toBeUndefined();
  });
});
