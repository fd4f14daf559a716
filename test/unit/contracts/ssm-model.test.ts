/**
 * Run Command limits and error codes, read from AWS's published model
 * (botocore's ssm service-2), against the product's adapter and the sandbox's
 * emulation: when either drifts from AWS, this fails.
 */
import * as product from '../../../lib/aws/ssm';
import { SSM_STDOUT_LIMIT } from '../../../lib/core/storage/status-frame';
import * as sandbox from '../../sandbox/control-plane/run-command';
import { memberShape, operationErrors, shape } from '../../contracts/aws-model';

describe('Run Command limits as AWS publishes them', () => {
  it('SendCommand Comment: at most 100 characters (product truncates, sandbox refuses beyond)', () => {
    const shape = memberShape('ssm', 'SendCommand', 'input', 'Comment');
    expect([product.COMMENT_MAX, sandbox.COMMENT_MAX]).toEqual([shape.max, shape.max]);
  });

  it('SendCommand TimeoutSeconds: 30..2592000 (product clamps, sandbox refuses outside)', () => {
    const shape = memberShape('ssm', 'SendCommand', 'input', 'TimeoutSeconds');
    expect([product.TIMEOUT_MIN, product.TIMEOUT_MAX]).toEqual([shape.min, shape.max]);
    expect([sandbox.TIMEOUT_MIN, sandbox.TIMEOUT_MAX]).toEqual([shape.min, shape.max]);
  });

  it('GetCommandInvocation keeps the first 24,000 characters of stdout and 8,000 of stderr (status frame and sandbox agree)', () => {
    const stdout = memberShape('ssm', 'GetCommandInvocation', 'output', 'StandardOutputContent');
    const stderr = memberShape('ssm', 'GetCommandInvocation', 'output', 'StandardErrorContent');
    expect(stdout.documentation).toContain('The first 24,000 characters written by the plugin');
    expect([SSM_STDOUT_LIMIT, sandbox.STDOUT_LIMIT, sandbox.STDERR_LIMIT]).toEqual([stdout.max, stdout.max, stderr.max]);
  });

  it('ListCommandInvocations CommandPlugins Output: at most 2,500 characters', () => {
    expect(shape('ssm', 'CommandPlugin').members?.Output?.shape).toBe('CommandPluginOutput');
    expect(sandbox.PLUGIN_OUTPUT_LIMIT).toBe(shape('ssm', 'CommandPluginOutput').max);
  });

  it('GetCommandInvocation names InvalidPluginName and InvocationDoesNotExist among its errors, and says a multi-step document needs PluginName', () => {
    expect(operationErrors('ssm', 'GetCommandInvocation')).toEqual(expect.arrayContaining(['InvalidPluginName', 'InvocationDoesNotExist']));
    expect(memberShape('ssm', 'GetCommandInvocation', 'input', 'PluginName').documentation).toContain('If the document contains more than one step, you must specify the name of the step');
  });

  it('every invocation status AWS can answer is one the product reads (and nothing else)', () => {
    expect([...product.STATUSES].sort()).toEqual([...shape('ssm', 'CommandInvocationStatus').enum ?? []].sort());
  });

  it('DescribeInstanceInformation filter values: the product asks for at most as many as AWS takes, and the sandbox refuses more', () => {
    const max = shape('ssm', 'InstanceInformationFilterValueSet').max ?? 0;
    expect(product.FILTER_BATCH).toBeLessThanOrEqual(max);
    expect(sandbox.FILTER_VALUES_MAX).toBe(max);
  });
});
