/** IPv4 CIDR arithmetic for validating and deriving subnet ranges. */
export interface Cidr {
  base: number; // network address as an unsigned 32-bit integer
  prefix: number;
}

const CIDR_PATTERN = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Parses "10.0.0.0/16"; undefined when it is not a valid IPv4 CIDR block with host bits zero. */
export function parseCidr(text: string): Cidr | undefined {
  const m = CIDR_PATTERN.exec(text);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  const base = ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0;
  if ((base & hostMask(prefix)) !== 0) return undefined;
  return { base, prefix };
}

function hostMask(prefix: number): number {
  return prefix === 0 ? 0xffffffff : (2 ** (32 - prefix) - 1) >>> 0;
}

export function formatCidr(c: Cidr): string {
  const b = c.base;
  return `${b >>> 24}.${(b >>> 16) & 255}.${(b >>> 8) & 255}.${b & 255}/${c.prefix}`;
}

function lastAddress(c: Cidr): number {
  return (c.base + hostMask(c.prefix)) >>> 0;
}

export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  return inner.prefix >= outer.prefix && inner.base >= outer.base && lastAddress(inner) <= lastAddress(outer);
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return a.base <= lastAddress(b) && b.base <= lastAddress(a);
}

/** The index-th block of the given prefix inside `vpc`. */
export function subdivide(vpc: Cidr, prefix: number, index: number): Cidr {
  return { base: (vpc.base + index * 2 ** (32 - prefix)) >>> 0, prefix };
}

/**
 * Four subnets (public a, public b, private a, private b) derived from the VPC range:
 * /24 blocks inside a /16, and in smaller ranges quarter blocks down to AWS's /28 minimum.
 */
export function deriveSubnetCidrs(vpcCidr: string): { public: [string, string]; private: [string, string] } {
  const vpc = parseCidr(vpcCidr);
  if (!vpc) throw new Error(`not a CIDR block: ${vpcCidr}`);
  const prefix = Math.max(vpc.prefix + 2, Math.min(vpc.prefix + 8, 28));
  const at = (i: number) => formatCidr(subdivide(vpc, prefix, i));
  return { public: [at(0), at(1)], private: [at(2), at(3)] };
}
