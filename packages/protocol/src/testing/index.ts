// Test helpers for packages that validate or quote strings: not part of the runtime surface.
export { CONTROL_CHARACTERS, hostileString } from './hostile-string.ts';
