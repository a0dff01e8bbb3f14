import { readFileSync } from 'node:fs';
import path from 'node:path';
import { hash, verify } from '@node-rs/argon2';

// OWASP's argon2id baseline: 19 MiB, 2 iterations, 1 lane. (`Algorithm` is a const enum,
// which isolated modules cannot import: 2 is its Argon2id.)
const argon2id = 2;
const argon2Options = { algorithm: argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export function hashPassword(password: string): Promise<string> {
  return hash(password, argon2Options);
}

// Verified against when the account does not exist, so that "no such user" and "wrong
// password" take the same time.
let decoyHash: Promise<string> | null = null;

export async function verifyPassword(passwordHash: string | null, password: string): Promise<boolean> {
  if (passwordHash === null) {
    decoyHash ??= hashPassword('decoy password that matches nothing');
    await verify(await decoyHash, password);
    return false;
  }
  return verify(passwordHash, password);
}

let commonPasswords: Set<string> | null = null;

/** The project's list of common passwords (domain/data/common-passwords.txt), loaded once. */
export function isCommonPassword(lowerCasedPassword: string): boolean {
  commonPasswords ??= new Set(
    readFileSync(path.join(__dirname, '../../domain/data/common-passwords.txt'), 'utf8')
      .split('\n')
      .filter((line) => line && !line.startsWith('#')),
  );
  return commonPasswords.has(lowerCasedPassword);
}
