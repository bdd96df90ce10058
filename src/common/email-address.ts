import { isEmail } from 'class-validator';

export interface EmailAddress {
  readonly address: string;
  readonly name?: string;
}

/**
 * Parses `Name <addr>`, `"Last, First" <addr>`, `<addr>` or `addr`. The address is returned with
 * its domain lower-cased (the local part is case-sensitive in theory, so it stays as written).
 * Returns null when no valid address is present.
 */
export function parseEmailAddress(input: string): EmailAddress | null {
  const value = input.trim();
  if (!value) return null;
  const angle = /^(.*?)<\s*([^<>\s]+)\s*>\s*$/s.exec(value);
  let name: string | undefined;
  let address: string;
  if (angle) {
    name = unquote(angle[1].trim()) || undefined;
    address = angle[2];
  } else {
    address = value;
  }
  if (!isEmail(address, { allow_display_name: false, require_tld: false, allow_ip_domain: true })) return null;
  return { address: normalizeAddress(address), name };
}

export function normalizeAddress(address: string): string {
  const at = address.lastIndexOf('@');
  if (at < 0) return address;
  return `${address.slice(0, at)}@${address.slice(at + 1).toLowerCase()}`;
}

/** Comparison key for "is this the same mailbox": case-insensitive as every real provider treats it. */
export function addressKey(address: string): string {
  return address.trim().toLowerCase();
}

export function formatEmailAddress({ address, name }: EmailAddress): string {
  if (!name) return address;
  const safe = /[",<>@;:\\]/.test(name) ? `"${name.replace(/["\\]/g, '\\$&')}"` : name;
  return `${safe} <${address}>`;
}

function unquote(name: string): string {
  if (name.length >= 2 && name.startsWith('"') && name.endsWith('"')) {
    return name.slice(1, -1).replace(/\\(.)/g, '$1').trim();
  }
  return name;
}
