// Regenerates domain/data/common-passwords.txt from the xato/zxcvbn list of the most common
// passwords (npm @zxcvbn-ts/language-common, MIT). Only entries of 10+ characters are kept:
// shorter passwords already fail the length rule. Run: node --import tsx infra/scripts/build-common-passwords.ts
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { dictionary } from '@zxcvbn-ts/language-common';
import { minimumPasswordLength } from '../../domain/accounts';

const passwords = (dictionary['passwords-common'] as string[])
  .map((password) => password.toLowerCase())
  .filter((password) => password.length >= minimumPasswordLength);
const unique = [...new Set(passwords)];
const header = '# Common passwords of 10+ characters (lower-cased), from @zxcvbn-ts/language-common (MIT).\n';
writeFileSync(path.join(__dirname, '../../domain/data/common-passwords.txt'), header + unique.join('\n') + '\n');
console.log(`wrote ${unique.length} common passwords`);
