/** Fn::Cidr as the sandbox's deploy computes it (CloudFormation: "returns an array of CIDR address blocks"; cidrBits is the number of subnet (host) bits). */
import { cidrSubnets, ClusterDeployError } from '../../sandbox/stack/deploy-cluster';

describe('Fn::Cidr (cidrSubnets)', () => {
  it.each([
    ['10.80.0.0/16', 6, 12, ['10.80.0.0/20', '10.80.16.0/20', '10.80.32.0/20', '10.80.48.0/20', '10.80.64.0/20', '10.80.80.0/20']],
    ['192.168.0.0/24', 6, 5, ['192.168.0.0/27', '192.168.0.32/27', '192.168.0.64/27', '192.168.0.96/27', '192.168.0.128/27', '192.168.0.160/27']],
    ['10.0.0.0/8', 2, 16, ['10.0.0.0/16', '10.1.0.0/16']],
  ] as const)('%s, %d blocks of %d host bits', (block, count, bits, expected) => {
    expect(cidrSubnets(block, count, bits)).toEqual(expected);
  });

  it.each([
    ['10.80.0.0/20', 6, 12, /holds 1 subnets of \/20, not 6/],
    ['10.80.0.0/16', 1, 17, /17 host bits do not fit/],
    ['not-a-cidr', 1, 8, /not an IPv4 CIDR block/],
    ['10.300.0.0/16', 1, 8, /not an IPv4 CIDR block/],
  ] as const)('refuses %s, %d x %d bits', (block, count, bits, message) => {
    expect(() => cidrSubnets(block, count, bits)).toThrow(ClusterDeployError);
    expect(() => cidrSubnets(block, count, bits)).toThrow(message);
  });
});
