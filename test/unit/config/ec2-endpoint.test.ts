import { ec2Endpoint } from '../../../lib/config/ec2-endpoint';
import { ConfigurationError } from '../../../lib/errors';

describe('ec2Endpoint', () => {
  it.each([
    [{ AWS_REGION: 'eu-west-1' }, 'https://ec2.eu-west-1.amazonaws.com/'],
    [{ AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL: 'http://127.0.0.1:5000' }, 'http://127.0.0.1:5000/'],
    [{ AWS_REGION: 'us-east-2', AWS_ENDPOINT_URL: 'http://127.0.0.1:5000', AWS_ENDPOINT_URL_EC2: 'http://10.0.0.1:4566' }, 'http://10.0.0.1:4566/'],
  ])('%j -> %s', (env, expected) => {
    expect(ec2Endpoint(env).url).toBe(expected);
  });

  it.each([
    [{}, /AWS_REGION must be a region name/],
    [{ AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL_EC2: 'not a url' }, /is not a URL/],
    [{ AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL_EC2: 'ftp://x' }, /must be http/],
  ])('refuses %j', (env, message) => {
    expect(() => ec2Endpoint(env)).toThrow(ConfigurationError);
    expect(() => ec2Endpoint(env)).toThrow(message);
  });
});
