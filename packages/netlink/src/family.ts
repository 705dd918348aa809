// Address families as the kernel numbers them (the text forms are @balanced/net's).
import type { AddressFamily } from '@balanced/net';

export const AF_INET = 2;
export const AF_INET6 = 10;

export function familyNumber(family: AddressFamily): number {
  return family === 'inet' ? AF_INET : AF_INET6;
}
