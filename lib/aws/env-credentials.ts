/**
 * The credential source of the functions' bundles, in place of the SDK's
 * default chain (`@aws-sdk/credential-provider-node`, aliased to this file by
 * serverless.yml's esbuild `alias`).
 *
 * Lambda sets the execution role's keys in AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN (the Lambda developer guide's
 * defined runtime environment variables), and the environment is the first
 * source the default chain reads, so in a function the chain always stops
 * there. The rest of it (SSO, shared ini files, process, web identity, the
 * container and instance metadata endpoints) is about 90 KB of bundle a
 * function never runs: without it the storage zip fits its 200 KB target.
 * Without those variables this fails as the chain's first source does, naming
 * them. The operator CLI (lib/cli, not bundled) keeps the whole chain.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';

/** The one export the SDK clients' runtime configs take from `@aws-sdk/credential-provider-node`. */
export const defaultProvider = (init?: Parameters<typeof fromEnv>[0]): ReturnType<typeof fromEnv> => fromEnv(init);
